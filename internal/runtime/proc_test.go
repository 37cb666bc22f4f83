package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeProc is one process of a synthetic /proc tree.
type fakeProc struct {
	pid, ppid int
	mntNS     int    // 0: no ns/mnt link (unreadable namespace)
	cgroup    string // "": no cgroup file
	mountinfo string
	// cgroupDir makes cgroup a directory: present but unreadable.
	cgroupDir bool
}

const (
	hostNS      = 4026531840
	hostRootMI  = "22 27 0:21 / /proc rw,relatime - proc proc rw\n27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
	hostCgroups = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/baa9\n0::/\n"
)

// writeProc builds a proc tree under dir shaped like the kernel's: per PID
// a cgroup, mountinfo and stat file and an ns/mnt symlink whose target
// names the namespace ("mnt:[N]", dangling, as in procfs).
func writeProc(tb testing.TB, dir string, procs []fakeProc) {
	tb.Helper()
	for _, p := range procs {
		d := filepath.Join(dir, strconv.Itoa(p.pid))
		if err := os.MkdirAll(filepath.Join(d, "ns"), 0o755); err != nil {
			tb.Fatal(err)
		}
		if p.mntNS != 0 {
			if err := os.Symlink(fmt.Sprintf("mnt:[%d]", p.mntNS), filepath.Join(d, "ns", "mnt")); err != nil {
				tb.Fatal(err)
			}
		}
		if p.cgroupDir {
			os.Mkdir(filepath.Join(d, "cgroup"), 0o755)
		} else if p.cgroup != "" {
			os.WriteFile(filepath.Join(d, "cgroup"), []byte(p.cgroup), 0o444)
		}
		if p.mountinfo != "" {
			os.WriteFile(filepath.Join(d, "mountinfo"), []byte(p.mountinfo), 0o444)
		}
		os.WriteFile(filepath.Join(d, "stat"), []byte(fmt.Sprintf("%d (proc %d) S %d 1 1 0 -1", p.pid, p.pid, p.ppid)), 0o444)
	}
	// Entries a real /proc has that are not processes.
	os.MkdirAll(filepath.Join(dir, "sys", "kernel"), 0o755)
	os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemTotal: 1 kB\n"), 0o444)
}

func overlayMI(upper string) string {
	return hostRootMI[:0] + "1038 956 0:95 / / rw,relatime master:285 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/AAA:/var/lib/docker/overlay2/l/BBB,upperdir=" +
		upper + ",workdir=/w\n1039 1038 0:96 / /proc rw - proc proc rw\n"
}

func TestScanProcSynthetic(t *testing.T) {
	root := t.TempDir()
	procDir := filepath.Join(root, "proc")
	runcMI := "27 1 254:0 / / rw - ext4 /dev/vda rw\n67 27 254:0 /tmp/b/rootfs / ro,relatime - ext4 /dev/vda rw\n"
	procs := []fakeProc{
		{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 2, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 100, ppid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		// Docker container: two processes in one namespace.
		{pid: 200, ppid: 190, mntNS: 4026532001, cgroup: "12:pids:/docker/" + idA + "\n0::/\n", mountinfo: overlayMI("/var/lib/docker/overlay2/aaa/diff")},
		{pid: 201, ppid: 200, mntNS: 4026532001, cgroup: "12:pids:/docker/" + idA + "\n0::/\n", mountinfo: overlayMI("/var/lib/docker/overlay2/aaa/diff")},
		// containerd (CRI), cri-o, podman, LXC.
		{pid: 300, mntNS: 4026532002, cgroup: "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + idB + ".scope\n", mountinfo: overlayMI("/var/lib/containerd/s/40/fs")},
		{pid: 400, mntNS: 4026532003, cgroup: "0::/kubepods.slice/crio-" + strings.Repeat("c", 64) + ".scope\n", mountinfo: overlayMI("/var/lib/containers/storage/overlay/c/diff")},
		{pid: 401, mntNS: 4026532010, cgroup: "0::/kubepods.slice/crio-conmon-" + strings.Repeat("c", 64) + ".scope\n", mountinfo: hostRootMI},
		{pid: 500, mntNS: 4026532004, cgroup: "0::/machine.slice/libpod-" + strings.Repeat("d", 64) + ".scope/container\n", mountinfo: overlayMI("/var/lib/containers/storage/overlay/d/diff")},
		{pid: 600, mntNS: 4026532005, cgroup: "4:memory:/lxc/web01\n0::/\n", mountinfo: "512 480 8:1 /var/lib/lxc/web01/rootfs / rw - ext4 /dev/sda1 rw\n"},
		// Plain runc with a named cgroup: found by namespace and root.
		{pid: 700, mntNS: 4026532006, cgroup: "9:name=systemd:/bhtest1\n8:pids:/bhtest1\n4:memory:/process_api/baa9/bhtest1\n0::/bhtest1\n", mountinfo: runcMI},
		// A systemd sandbox: own namespace, host root: no container.
		{pid: 800, mntNS: 4026532007, cgroup: "0::/system.slice/chronyd.service\n", mountinfo: hostRootMI},
		// A kernel thread with its own namespace (kdevtmpfs).
		{pid: 25, ppid: 2, mntNS: 4026531860, cgroup: hostCgroups, mountinfo: "7 6 0:6 / / rw - devtmpfs devtmpfs rw\n"},
		// Unreadable: cgroup is not a file; malformed cgroup content.
		{pid: 900, mntNS: 4026532008, cgroupDir: true},
		{pid: 901, mntNS: 4026532009, cgroup: "not a cgroup file"},
		// Vanished: nothing left but the directory.
		{pid: 902},
	}
	writeProc(t, procDir, procs)

	// Runtime state files on the "host".
	cfgDir := filepath.Join(root, "var/lib/docker/containers", idA)
	os.MkdirAll(cfgDir, 0o755)
	os.WriteFile(filepath.Join(cfgDir, "config.v2.json"), []byte(`{"Name":"/web","Image":"sha256:`+strings.Repeat("e", 64)+`","Config":{"Image":"nginx:1.27","User":"101","Labels":{"com.docker.compose.project":"shop"}}}`), 0o644)
	stDir := filepath.Join(root, "run/runc/bhtest1")
	os.MkdirAll(stDir, 0o755)
	os.WriteFile(filepath.Join(stDir, "state.json"), []byte(`{"id":"bhtest1","created":"2026-11-28T09:51:14.550873909Z","config":{"labels":["bundle=/tmp/b"]}}`), 0o644)

	// containers/storage records of the Podman container.
	csDir := filepath.Join(root, "var/lib/containers/storage")
	os.MkdirAll(filepath.Join(csDir, "overlay-containers"), 0o755)
	os.MkdirAll(filepath.Join(csDir, "overlay-images"), 0o755)
	os.WriteFile(filepath.Join(csDir, "overlay-containers", "containers.json"), []byte(`[{"id":"`+strings.Repeat("d", 64)+`","names":["db"],"image":"`+strings.Repeat("f", 64)+`","created":"2026-11-28T08:00:00Z"}]`), 0o644)
	os.WriteFile(filepath.Join(csDir, "overlay-images", "images.json"), []byte(`[{"id":"`+strings.Repeat("f", 64)+`","names":["docker.io/library/postgres:16"]}]`), 0o644)

	res, err := ScanProc(context.Background(), ProcOptions{Root: procDir})
	if err != nil {
		t.Fatal(err)
	}
	overlay := func(upper, lower1, lower2 string) *RootFS {
		return &RootFS{FSType: "overlay", Source: "overlay", Root: "/", UpperDir: upper, LowerDirs: []string{lower1, lower2}}
	}
	dl := func(u string) *RootFS {
		return overlay(u, "/var/lib/docker/overlay2/l/AAA", "/var/lib/docker/overlay2/l/BBB")
	}
	want := []Container{
		{ID: "bhtest1", Name: "bhtest1", Runtime: RuntimeRunc, Sources: []string{SourceProc}, State: "running", PIDs: []int{700},
			RootFS: &RootFS{FSType: "ext4", Source: "/dev/vda", Root: "/tmp/b/rootfs"}, Bundle: "/tmp/b",
			Created: time.Date(2026, 11, 28, 9, 51, 14, 550873909, time.UTC)},
		{ID: idA, Name: "web", Runtime: RuntimeDocker, Sources: []string{SourceProc}, State: "running", PIDs: []int{200, 201},
			RootFS: dl("/var/lib/docker/overlay2/aaa/diff"), Image: "nginx:1.27", ImageID: "sha256:" + strings.Repeat("e", 64), User: "101",
			Labels: map[string]string{"com.docker.compose.project": "shop"}, ComposeProject: "shop"},
		{ID: idB, Name: idB, Runtime: RuntimeContainerd, Sources: []string{SourceProc}, State: "running", PIDs: []int{300}, RootFS: dl("/var/lib/containerd/s/40/fs")},
		{ID: strings.Repeat("c", 64), Name: strings.Repeat("c", 64), Runtime: RuntimeCRIO, Sources: []string{SourceProc}, State: "running", PIDs: []int{400},
			RootFS: dl("/var/lib/containers/storage/overlay/c/diff")},
		{ID: strings.Repeat("d", 64), Name: "db", Runtime: RuntimePodman, Sources: []string{SourceProc}, State: "running", PIDs: []int{500},
			RootFS: dl("/var/lib/containers/storage/overlay/d/diff"), Image: "docker.io/library/postgres:16", ImageID: "sha256:" + strings.Repeat("f", 64),
			Created: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)},
		{ID: "web01", Name: "web01", Runtime: RuntimeLXC, Sources: []string{SourceProc}, State: "running", PIDs: []int{600},
			RootFS: &RootFS{FSType: "ext4", Source: "/dev/sda1", Root: "/var/lib/lxc/web01/rootfs"}},
	}
	sortContainers(res.Containers)
	sortContainers(want)
	if d := cmp.Diff(want, res.Containers); d != "" {
		t.Errorf("containers (-want +got):\n%s", d)
	}
	wantStats := ProcStats{Root: procDir, Processes: 16, InHost: 6, Contained: 7, Unreadable: 2, Vanished: 1}
	if d := cmp.Diff(wantStats, res.Stats); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 of 16") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

// TestScanProcNoNamespaces: a tree whose ns links cannot be read (an
// unprivileged reader) still finds containers by cgroup path, says so, and
// does not guess about the rest.
func TestScanProcNoNamespaces(t *testing.T) {
	dir := t.TempDir()
	writeProc(t, dir, []fakeProc{
		{pid: 1, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 200, cgroup: "0::/docker/" + idA + "\n", mountinfo: overlayMI("/u")},
		{pid: 700, cgroup: "0::/bhtest1\n", mountinfo: "67 27 254:0 /tmp/b/rootfs / ro - ext4 /dev/vda rw\n"},
	})
	res, err := ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Containers) != 1 || res.Containers[0].ID != idA || res.Containers[0].RootFS == nil {
		t.Fatalf("containers = %+v", res.Containers)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "cgroup path only") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestScanProcMissingRoot(t *testing.T) {
	_, err := ScanProc(context.Background(), ProcOptions{Root: filepath.Join(t.TempDir(), "nope")})
	if err == nil || !strings.Contains(err.Error(), "--proc-root") {
		t.Fatalf("err = %v", err)
	}
}

func TestScanProcHostileSizes(t *testing.T) {
	dir := t.TempDir()
	huge := strings.Repeat("0::/docker/"+idA+"\n", 20000) // 1.5 MB cgroup file: only the first 64 KiB are read
	bigMI := strings.Repeat("22 27 0:21 / /proc rw - proc proc rw\n", 200000) + "1038 956 0:95 / / rw - overlay overlay rw,upperdir=/late\n"
	writeProc(t, dir, []fakeProc{
		{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 10, mntNS: 4026532100, cgroup: huge, mountinfo: bigMI},
	})
	done := make(chan struct{})
	var res *ProcResult
	var err error
	go func() { res, err = ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"}); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ScanProc hung on large files")
	}
	if err != nil {
		t.Fatal(err)
	}
	// The root mount sits past the line cap: the container is still found
	// by its cgroup, without a root filesystem.
	if len(res.Containers) != 1 || res.Containers[0].ID != idA || res.Containers[0].RootFS != nil {
		t.Fatalf("containers = %+v", res.Containers)
	}
}

func sortContainers(cs []Container) {
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if cs[j].ID < cs[i].ID {
				cs[i], cs[j] = cs[j], cs[i]
			}
		}
	}
}

// syntheticHost writes a /proc of n processes: 3 in 4 on the host, the rest
// in 50 containers of five runtimes, 8 mounts per container namespace and
// 30 on the host.
func syntheticHost(tb testing.TB, dir string, n int) {
	var hostMI strings.Builder
	for i := range 30 {
		fmt.Fprintf(&hostMI, "%d 27 0:%d / /mnt/m%d rw,relatime shared:%d - tmpfs tmpfs rw\n", 100+i, 100+i, i, i)
	}
	hostMI.WriteString(hostRootMI)
	procs := []fakeProc{{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostMI.String()}}
	shapes := []string{"/docker/%s", "/system.slice/docker-%s.scope", "/kubepods/burstable/pod1/%s", "/kubepods.slice/crio-%s.scope", "/machine.slice/libpod-%s.scope"}
	for pid := 2; len(procs) < n; pid++ {
		if pid%4 != 0 {
			procs = append(procs, fakeProc{pid: pid, ppid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostMI.String()})
			continue
		}
		c := (pid / 4) % 50
		id := fmt.Sprintf("%064x", c+1)
		var mi strings.Builder
		for i := range 8 {
			fmt.Fprintf(&mi, "%d 1038 0:%d / /m%d rw - tmpfs tmpfs rw\n", 2000+i, 300+i, i)
		}
		mi.WriteString(overlayMI("/var/lib/docker/overlay2/" + id + "/diff"))
		cg := fmt.Sprintf("12:pids:"+shapes[c%len(shapes)]+"\n11:memory:"+shapes[c%len(shapes)]+"\n0::/\n", id, id)
		procs = append(procs, fakeProc{pid: pid, ppid: 1, mntNS: 4026533000 + c, cgroup: cg, mountinfo: mi.String()})
	}
	writeProc(tb, dir, procs)
}

func TestSyntheticHost(t *testing.T) {
	dir := t.TempDir()
	syntheticHost(t, dir, 400)
	res, err := ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Processes != 400 || res.Stats.Contained != 100 || res.Stats.InHost != 300 || len(res.Containers) != 50 {
		t.Fatalf("stats %+v, %d containers; want 400 processes, 100 contained, 50 containers", res.Stats, len(res.Containers))
	}
	runtimes := map[string]int{}
	for _, c := range res.Containers {
		runtimes[c.Runtime]++
		if c.RootFS == nil || c.RootFS.UpperDir != "/var/lib/docker/overlay2/"+c.ID+"/diff" {
			t.Errorf("%s: rootfs %+v", c.ID, c.RootFS)
		}
	}
	if d := cmp.Diff(map[string]int{RuntimeDocker: 20, RuntimeContainerd: 10, RuntimeCRIO: 10, RuntimePodman: 10}, runtimes); d != "" {
		t.Errorf("runtimes (-want +got):\n%s", d)
	}
}

// BenchmarkScanProc2000 is the target: an inventory from /proc on a
// host with 2,000 processes in under 200 ms.
func BenchmarkScanProc2000(b *testing.B) {
	dir := b.TempDir()
	syntheticHost(b, dir, 2000)
	b.ResetTimer()
	for b.Loop() {
		res, err := ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"})
		if err != nil || len(res.Containers) != 50 {
			b.Fatalf("%v, %d containers", err, len(res.Containers))
		}
	}
}

// BenchmarkScanProc2000NoNamespaces: the same host read by a process that
// cannot see namespaces, so every cgroup file is read.
func BenchmarkScanProc2000NoNamespaces(b *testing.B) {
	dir := b.TempDir()
	syntheticHost(b, dir, 2000)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "mnt" && fi.Mode()&os.ModeSymlink != 0 {
			os.Remove(p)
		}
		return nil
	})
	b.ResetTimer()
	for b.Loop() {
		res, err := ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"})
		if err != nil || len(res.Containers) != 50 {
			b.Fatalf("%v, %d containers", err, len(res.Containers))
		}
	}
}

func BenchmarkScanProcLive(b *testing.B) {
	for b.Loop() {
		if _, err := ScanProc(context.Background(), ProcOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A FIFO where a cgroup or mountinfo file belongs would block open and
// read for ever, and a hostname linked to /dev/zero would never end: both
// are skipped, and the rest of the tree is still read.
func TestScanProcSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeProc(t, dir, []fakeProc{
		{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 10, mntNS: 4026532100, mountinfo: overlayMI("/var/lib/docker/overlay2/a/diff")},
		{pid: 20, mntNS: 4026532200, cgroup: "0::/docker/" + idB + "\n", mountinfo: overlayMI("/var/lib/docker/overlay2/b/diff")},
	})
	if err := syscall.Mkfifo(filepath.Join(dir, "10", "cgroup"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "sys", "kernel", "hostname")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var res *ProcResult
	var err error
	var host string
	go func() {
		res, err = ScanProc(context.Background(), ProcOptions{Root: dir, HostRoot: "-"})
		host = hostName(dir)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("hung on a FIFO or /dev/zero under the proc root")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Containers) != 1 || res.Containers[0].ID != idB {
		t.Errorf("containers = %+v", res.Containers)
	}
	if h, _ := os.Hostname(); host != h {
		t.Errorf("host name %q, want ours (%q) when the proc root's is not a file", host, h)
	}
}
