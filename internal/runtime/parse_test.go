package runtime

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	idA = "3f4e8d2c1b0a99887766554433221100ffeeddccbbaa00112233445566778899"
	idB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// cgroupCases are real-shaped /proc/PID/cgroup files, v1 and v2, cgroupfs
// and systemd drivers, one or more per runtime.
var cgroupCases = []struct {
	name string
	file string
	want CgroupMatch // zero: no container
}{
	{"docker v1 cgroupfs", "12:pids:/docker/" + idA + "\n11:memory:/docker/" + idA + "\n1:name=systemd:/docker/" + idA + "\n0::/\n",
		CgroupMatch{idA, RuntimeDocker}},
	{"docker v2 systemd", "0::/system.slice/docker-" + idA + ".scope\n", CgroupMatch{idA, RuntimeDocker}},
	{"docker v2 cgroupfs", "0::/docker/" + idA + "\n", CgroupMatch{idA, RuntimeDocker}},
	{"docker in docker: the outer container", "0::/docker/" + idA + "/docker/" + idB + "\n", CgroupMatch{idA, RuntimeDocker}},
	{"docker in kubernetes (systemd)", "0::/kubepods.slice/kubepods-pod1b2c.slice/docker-" + idA + ".scope\n", CgroupMatch{idA, RuntimeDocker}},
	{"containerd CRI v2 systemd",
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6a1d2c3b_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" + idA + ".scope\n",
		CgroupMatch{idA, RuntimeContainerd}},
	{"containerd CRI v1 cgroupfs",
		"11:memory:/kubepods/burstable/pod6a1d2c3b-4e5f-6789-abcd-ef0123456789/" + idA + "\n10:cpu,cpuacct:/kubepods/burstable/pod6a1d2c3b-4e5f-6789-abcd-ef0123456789/" + idA + "\n",
		CgroupMatch{idA, RuntimeContainerd}},
	{"nerdctl systemd", "0::/system.slice/nerdctl-" + idA + ".scope\n", CgroupMatch{idA, RuntimeContainerd}},
	{"ctr namespace/id", "0::/default/" + idA + "\n", CgroupMatch{idA, RuntimeContainerd}},
	{"cri-o v2 systemd", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a.slice/crio-" + idA + ".scope\n",
		CgroupMatch{idA, RuntimeCRIO}},
	{"cri-o v1 cgroupfs", "9:pids:/kubepods/besteffort/pod0f1e2d3c-4b5a/crio-" + idA + "\n", CgroupMatch{idA, RuntimeCRIO}},
	{"cri-o conmon is no container", "0::/kubepods.slice/kubepods-besteffort.slice/crio-conmon-" + idA + ".scope\n", CgroupMatch{}},
	{"podman rootful v2", "0::/machine.slice/libpod-" + idA + ".scope/container\n", CgroupMatch{idA, RuntimePodman}},
	{"podman rootless v2", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + idA + ".scope\n", CgroupMatch{idA, RuntimePodman}},
	{"podman cgroupfs", "0::/libpod_parent/libpod-" + idA + "\n", CgroupMatch{idA, RuntimePodman}},
	{"podman v1 cgroupfs", "4:memory:/libpod_parent/" + idA + "\n", CgroupMatch{idA, RuntimePodman}},
	{"podman conmon is no container", "0::/machine.slice/libpod-conmon-" + idA + ".scope\n", CgroupMatch{}},
	{"runc with a hex id", "0::/" + idA + "\n", CgroupMatch{idA, RuntimeRunc}},
	{"runc v1 with a hex id", "8:pids:/" + idA + "\n4:memory:/" + idA + "\n", CgroupMatch{idA, RuntimeRunc}},
	{"lxc v1 legacy", "4:memory:/lxc/web01\n3:cpuset:/lxc/web01\n1:name=systemd:/lxc/web01\n", CgroupMatch{"web01", RuntimeLXC}},
	{"lxc 4+ payload", "0::/lxc.payload.web01\n", CgroupMatch{"web01", RuntimeLXC}},
	{"lxc 3 payload dir", "0::/lxc.payload/web01/init.scope\n", CgroupMatch{"web01", RuntimeLXC}},
	{"lxd payload", "11:pids:/lxc.payload.c1\n0::/lxc.payload.c1/system.slice/cron.service\n", CgroupMatch{"c1", RuntimeLXC}},
	{"lxc monitor is no container", "0::/lxc.monitor.web01\n", CgroupMatch{}},
	{"host systemd service", "0::/system.slice/ssh.service\n", CgroupMatch{}},
	{"host init", "0::/init.scope\n", CgroupMatch{}},
	{"host v1 root", "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/baa967f2721160b36ce0fe0e21a14567\n0::/\n", CgroupMatch{}},
	{"runc named (found by namespace, not path)", "9:name=systemd:/bhtest1\n8:pids:/bhtest1\n0::/bhtest1\n", CgroupMatch{}},
	{"uppercase hex is no id", "0::/docker/" + strings.ToUpper(idA) + "\n", CgroupMatch{}},
	{"63 hex digits is no id", "0::/docker/" + idA[:63] + "\n", CgroupMatch{}},
	{"hybrid: v2 root, v1 docker", "0::/\n12:pids:/docker/" + idA + "\n", CgroupMatch{idA, RuntimeDocker}},
}

func TestMatchCgroup(t *testing.T) {
	for _, tc := range cgroupCases {
		t.Run(tc.name, func(t *testing.T) {
			lines, ok := ParseCgroup(tc.file)
			if !ok {
				t.Fatalf("ParseCgroup(%q) found no line", tc.file)
			}
			got, matched := MatchCgroup(lines)
			if matched != (tc.want != CgroupMatch{}) || got != tc.want {
				t.Errorf("MatchCgroup = %+v, %v; want %+v", got, matched, tc.want)
			}
		})
	}
}

func TestParseCgroupMalformed(t *testing.T) {
	for _, in := range []string{"", "\n\n", "garbage", "1:memory", "1:memory:relative/path", "::"} {
		if lines, ok := ParseCgroup(in); ok {
			t.Errorf("ParseCgroup(%q) = %+v, want nothing usable", in, lines)
		}
	}
	lines, ok := ParseCgroup("junk\r\n0::/docker/" + idA + "\r\n")
	if !ok || len(lines) != 1 || lines[0].Path != "/docker/"+idA {
		t.Errorf("CRLF file: %+v", lines)
	}
}

func TestRelativeLeaf(t *testing.T) {
	ref, _ := ParseCgroup("9:name=systemd:/\n4:memory:/process_api/baa9\n0::/\n")
	cases := []struct{ file, want string }{
		{"9:name=systemd:/bhtest1\n4:memory:/process_api/baa9/bhtest1\n0::/bhtest1\n", "bhtest1"},
		{"9:name=systemd:/\n4:memory:/process_api/baa9/runc-x\n", "runc-x"},
		{"9:name=systemd:/\n4:memory:/process_api/baa9\n0::/\n", ""},
		{"0::/user.slice/sess/ctr\n", "ctr"},
	}
	for _, tc := range cases {
		lines, _ := ParseCgroup(tc.file)
		if got := relativeLeaf(lines, ref); got != tc.want {
			t.Errorf("relativeLeaf(%q) = %q, want %q", tc.file, got, tc.want)
		}
	}
}

// mountCases are real-shaped mountinfo root lines per runtime.
var mountCases = []struct {
	name string
	line string
	want *RootFS // nil: malformed
}{
	{"docker overlay2",
		"1038 956 0:95 / / rw,relatime master:285 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/7QF2:/var/lib/docker/overlay2/l/ZK3R,upperdir=/var/lib/docker/overlay2/9c1e/diff,workdir=/var/lib/docker/overlay2/9c1e/work",
		&RootFS{FSType: "overlay", Source: "overlay", Root: "/", UpperDir: "/var/lib/docker/overlay2/9c1e/diff",
			LowerDirs: []string{"/var/lib/docker/overlay2/l/7QF2", "/var/lib/docker/overlay2/l/ZK3R"}}},
	{"containerd overlayfs snapshotter",
		"2120 2088 0:210 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/work",
		&RootFS{FSType: "overlay", Source: "overlay", Root: "/", UpperDir: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/40/fs",
			LowerDirs: []string{"/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs"}}},
	{"podman / cri-o containers-storage",
		"645 600 0:66 / / rw,relatime - overlay overlay rw,context=\"system_u:object_r:container_file_t:s0\",lowerdir=/var/lib/containers/storage/overlay/l/AB,upperdir=/var/lib/containers/storage/overlay/f00/diff,workdir=/var/lib/containers/storage/overlay/f00/work,metacopy=on",
		&RootFS{FSType: "overlay", Source: "overlay", Root: "/", UpperDir: "/var/lib/containers/storage/overlay/f00/diff",
			LowerDirs: []string{"/var/lib/containers/storage/overlay/l/AB"}}},
	{"rootless podman fuse-overlayfs",
		"700 650 0:70 / / rw,nodev,relatime - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0,group_id=0",
		&RootFS{FSType: "fuse.fuse-overlayfs", Source: "fuse-overlayfs", Root: "/"}},
	{"plain runc bundle (bind mount)",
		"67 44 254:0 /tmp/rtest/rootfs / ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534",
		&RootFS{FSType: "ext4", Source: "/dev/vda", Root: "/tmp/rtest/rootfs"}},
	{"escaped space in a path",
		"67 44 254:0 /tmp/my\\040bundle/rootfs / ro,relatime shared:1 master:2 - ext4 /dev/vda rw",
		&RootFS{FSType: "ext4", Source: "/dev/vda", Root: "/tmp/my bundle/rootfs"}},
	{"lxc dir backend",
		"512 480 8:1 /var/lib/lxc/web01/rootfs / rw,relatime shared:300 - ext4 /dev/sda1 rw,errors=remount-ro",
		&RootFS{FSType: "ext4", Source: "/dev/sda1", Root: "/var/lib/lxc/web01/rootfs"}},
	{"lxd zfs",
		"1200 1100 0:120 / / rw,relatime shared:600 - zfs default/containers/c1 rw,xattr,posixacl",
		&RootFS{FSType: "zfs", Source: "default/containers/c1", Root: "/"}},
	{"no optional fields, no super options", "1 0 8:1 / / rw - ext4 /dev/sda1", &RootFS{FSType: "ext4", Source: "/dev/sda1", Root: "/"}},
	{"missing separator", "1038 956 0:95 / / rw,relatime overlay overlay rw", nil},
	{"separator too late", "1038 956 0:95 / / rw,relatime -", nil},
	{"bad id", "x 956 0:95 / / rw - overlay overlay rw", nil},
	{"bad device", "1 2 095 / / rw - overlay overlay rw", nil},
	{"too short", "1 2 0:1 /", nil},
}

func TestParseMountInfo(t *testing.T) {
	for _, tc := range mountCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMountInfoLine(tc.line)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("parsed a malformed line: %+v", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MountPoint != "/" {
				t.Fatalf("mount point %q", m.MountPoint)
			}
			if d := cmp.Diff(tc.want, RootFSOf(m)); d != "" {
				t.Errorf("RootFS (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMountInfoFields(t *testing.T) {
	m, err := ParseMountInfoLine("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue")
	if err != nil {
		t.Fatal(err)
	}
	want := MountInfo{ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt2", Options: "rw,noatime",
		Optional: []string{"master:1", "shared:7"}, FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestRootMountLastWins(t *testing.T) {
	mi := strings.Join([]string{
		"22 27 0:21 / /proc rw,relatime - proc proc rw",
		"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
		"garbage line",
		"67 27 254:0 /tmp/rtest/rootfs / ro,relatime - ext4 /dev/vda rw",
		"68 67 0:40 / /proc rw,relatime - proc proc rw",
	}, "\n")
	m, ok := RootMount(mi)
	if !ok || m.ID != 67 || m.Root != "/tmp/rtest/rootfs" {
		t.Fatalf("RootMount = %+v, %v; want mount 67", m, ok)
	}
	if _, ok := RootMount("22 27 0:21 / /proc rw - proc proc rw\n"); ok {
		t.Fatal("found a root mount where there is none")
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:  "/a b",
		`/a\011b`:  "/a\tb",
		`/a\134b`:  `/a\b`,
		`/a\012`:   "/a\n",
		`/a\`:      `/a\`,
		`/a\04`:    `/a\04`,
		`/a\999`:   `/a\999`,
		`\040\040`: "  ",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseCgroup(f *testing.F) {
	for _, tc := range cgroupCases {
		f.Add(tc.file)
	}
	f.Add("0::/lxc.payload.\n")
	f.Add("0::/lxc/\n0::/lxc\n")
	f.Fuzz(func(t *testing.T, data string) {
		lines, ok := ParseCgroup(data)
		if ok != (len(lines) > 0) || len(lines) > maxCgroupLines {
			t.Fatalf("ok=%v with %d lines", ok, len(lines))
		}
		m, matched := MatchCgroup(lines)
		if matched {
			if m.ID == "" || m.Runtime == "" || strings.Contains(m.ID, "/") {
				t.Fatalf("bad match %+v from %q", m, data)
			}
			if !strings.Contains(data, m.ID) {
				t.Fatalf("id %q not in input", m.ID)
			}
		}
		relativeLeaf(lines, lines)
	})
}

func FuzzParseMountInfo(f *testing.F) {
	for _, tc := range mountCases {
		f.Add(tc.line)
	}
	f.Add(`1 0 8:1 /a\1 /\040 rw - overlay overlay lowerdir=\072:,upperdir=`)
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMountInfoLine(line)
		if err != nil {
			return
		}
		if m.FSType == "" || m.FSType == "-" && len(strings.Fields(line)) < 9 {
			t.Fatalf("accepted %q as %+v", line, m)
		}
		r := RootFSOf(m)
		if r.FSType != m.FSType {
			t.Fatalf("RootFSOf changed the type: %+v", r)
		}
		if len(unescapeOctal(line)) > len(line) {
			t.Fatal("unescaping grew the input")
		}
		RootMount(line + "\n" + line)
	})
}
