package audit

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 8:17 / /var/lib/docker rw,relatime shared:20 master:3 - xfs /dev/sdb1 rw,attr2
41 22 0:5 / /mnt/with\040space rw - tmpfs tmp\040fs rw
short line
42 22 0:6 / /no-separator rw opt1 opt2 opt3
`
	got, err := ParseMountinfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{"/", "/dev/sda1", "ext4"},
		{"/var/lib/docker", "/dev/sdb1", "xfs"},
		{"/mnt/with space", "tmp fs", "tmpfs"},
		{"/no-separator", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseMounts(t *testing.T) {
	in := "# comment\n\n/dev/sdb1 /var/lib/docker xfs defaults 0 2\nUUID=x /\\011tab ext4 defaults\nbroken\n"
	got, err := ParseMounts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{{"/var/lib/docker", "/dev/sdb1", "xfs"}, {"/\ttab", "UUID=x", "ext4"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseAuditRules(t *testing.T) {
	in := `# docker rules
-w /usr/bin/dockerd -p rwxa -k docker
-a always,exit -F path=/usr/bin/runc -F perm=x -k docker
-a exit,always -F arch=b64 -F dir=/var/lib/docker -k docker
-w/etc/docker -k docker
-D
-b 8192
-w
`
	got, err := ParseAuditRules(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range got {
		paths = append(paths, r.Path)
	}
	want := []string{"/usr/bin/dockerd", "/usr/bin/runc", "/var/lib/docker", "/etc/docker"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if _, ok := watched(got, "/var/lib/docker/overlay2/x"); !ok {
		t.Error("a directory watch should cover the files below it")
	}
	if _, ok := watched(got, "/etc/dockerfile"); ok {
		t.Error("/etc/docker must not cover /etc/dockerfile")
	}
}

func TestParseGroupMembers(t *testing.T) {
	tests := []struct {
		in      string
		members []string
		found   bool
	}{
		{"root:x:0:\ndocker:x:999:alice, bob,\n", []string{"alice", "bob"}, true},
		{"docker:x:999:\n", nil, true},
		{"dockerx:x:1:eve\n", nil, false},
		{"docker:x\n", nil, false},
	}
	for _, tc := range tests {
		m, found, err := ParseGroupMembers(strings.NewReader(tc.in), "docker")
		if err != nil || found != tc.found || !reflect.DeepEqual(m, tc.members) {
			t.Errorf("%q: got %q %v %v, want %q %v", tc.in, m, found, err, tc.members, tc.found)
		}
	}
}

func TestParseDaemonConfig(t *testing.T) {
	c, err := ParseDaemonConfig([]byte(goodDaemonJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !isFalse(c.ICC) || !isTrue(c.TLSVerify) || c.UsernsRemap != "default" || len(c.Hosts) != 2 {
		t.Errorf("parsed %+v", c)
	}
	for _, bad := range []string{`{"icc": "no"}`, `{"hosts": "tcp://x"}`, `{`, `[]`, `{"icc": false} garbage`, `{} {}`} {
		if _, err := ParseDaemonConfig([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestParseDockerdArgs(t *testing.T) {
	var c DaemonConfig
	ParseDockerdArgs(strings.Fields("-H fd:// --host=tcp://0.0.0.0:2376 --icc=false --tlsverify --tlscacert /ca -l warn --live-restore=false --insecure-registry a --insecure-registry=b --userns-remap"), &c)
	if len(c.Hosts) != 2 || !isFalse(c.ICC) || !isTrue(c.TLSVerify) || c.TLSCACert != "/ca" || c.LogLevel != "warn" ||
		!isFalse(c.LiveRestore) || !reflect.DeepEqual(c.InsecureRegistries, []string{"a", "b"}) {
		t.Errorf("parsed %+v", c)
	}
	// The shorthand with its value attached.
	var c2 DaemonConfig
	ParseDockerdArgs([]string{"-Htcp://0.0.0.0:2375", "-Hunix:///var/run/docker.sock"}, &c2)
	if !reflect.DeepEqual(c2.Hosts, []string{"tcp://0.0.0.0:2375", "unix:///var/run/docker.sock"}) {
		t.Errorf("-Hvalue: hosts %q", c2.Hosts)
	}
}

// TestHostileRoot: files that cannot be read, a symlink loop, a link that
// tries to leave the root, an oversized file. Each is a warning or a
// NOTE; the audit finishes.
func TestHostileRoot(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside.json")
	if err := os.WriteFile(outside, []byte(`{"icc": false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := writeRoot(t, map[string]file{
		"root/etc/docker/daemon.json": link("/../../../../../../" + outside),
		"root/etc/group":              d(0o755), // a directory where a file belongs
		"root/proc/self/mountinfo":    link("/proc/self/mountinfo"),
		"root/etc/fstab":              f(strings.Repeat("x", maxFileSize+10), 0o644),
		"root/etc/audit/audit.rules":  f("-w "+strings.Repeat("/a", maxLine)+"\n", 0o600),
		"root/proc/5/comm":            f("dockerd\n", 0o444),
		"root/proc/5/cmdline":         d(0o755),
	})
	root = filepath.Join(root, "root")
	// A FIFO would block a plain open forever.
	if err := syscall.Mkfifo(filepath.Join(root, "etc/audit/rules.d-fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/audit/rules.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "etc/audit/rules.d-fifo"), filepath.Join(root, "etc/audit/rules.d/fifo.rules")); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{"/etc/group", "too many symbolic links", "/etc/fstab", "/etc/audit/audit.rules", "command line cannot be read", "fifo.rules is not a regular file"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings do not mention %q:\n%s", want, joined)
		}
	}
	st := statuses(rep, KindDaemon)
	if st["2.2"] != Fail {
		t.Errorf("2.2 = %s: the daemon.json outside the root was read (%s)", st["2.2"], evidence(rep, "2.2"))
	}
	hs := statuses(rep, KindHost)
	if hs["1.1.1"] != Note || hs["1.1.2"] != Note {
		t.Errorf("1.1.1 = %s, 1.1.2 = %s; want NOTE when the files cannot be read", hs["1.1.1"], hs["1.1.2"])
	}
}
