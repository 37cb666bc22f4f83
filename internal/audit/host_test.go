package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// file is one entry of a prepared root.
type file struct {
	body     string
	mode     os.FileMode
	dir      bool
	link     string // a symlink to this target
	uid, gid int    // -1: leave as created
}

func f(body string, mode os.FileMode) file { return file{body: body, mode: mode, uid: -1, gid: -1} }
func d(mode os.FileMode) file              { return file{dir: true, mode: mode, uid: -1, gid: -1} }
func owned(x file, uid, gid int) file      { x.uid, x.gid = uid, gid; return x }
func link(to string) file                  { return file{link: to, uid: -1, gid: -1} }

func writeRoot(t *testing.T, files map[string]file) string {
	t.Helper()
	root := t.TempDir()
	for name, x := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case x.link != "":
			if err := os.Symlink(x.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		case x.dir:
			if err := os.MkdirAll(p, x.mode); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(x.body), x.mode); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(p, x.mode); err != nil {
			t.Fatal(err)
		}
		if x.uid >= 0 {
			if err := os.Lchown(p, x.uid, x.gid); err != nil {
				fixture.Unavailable(t, fmt.Sprintf("chown needs root: %v", err))
			}
		}
	}
	return root
}

const goodDaemonJSON = `{
  "icc": false, "userns-remap": "default", "live-restore": true, "no-new-privileges": true,
  "log-driver": "syslog", "log-opts": {"syslog-address": "udp://10.0.0.1:514"}, "log-level": "info",
  "userland-proxy": false, "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
  "authorization-plugins": ["authz-broker"], "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tlsverify": true, "tlscacert": "/etc/docker/ca.pem", "tlscert": "/etc/docker/cert.pem", "tlskey": "/etc/docker/key.pem"
}`

const badDaemonJSON = `{
  "icc": true, "insecure-registries": ["reg.local:5000"], "experimental": true,
  "hosts": ["tcp://0.0.0.0:2375", "unix:///var/run/docker.sock"], "storage-driver": "aufs",
  "log-level": "debug", "iptables": false, "seccomp-profile": "unconfined", "userland-proxy": true,
  "cgroup-parent": "/custom"
}`

const allAuditRules = `## docker
-w /usr/bin/dockerd -k docker
-w /run/containerd -k docker
-a always,exit -F dir=/var/lib/docker -F perm=wa -k docker
-w /etc/docker -k docker
-w /lib/systemd/system/docker.service -k docker
-w /lib/systemd/system/docker.socket -k docker
-w /etc/default/docker -k docker
-w /usr/bin/containerd -k docker
-w /usr/bin/runc -k docker
`

func goodRoot(t *testing.T) string {
	return writeRoot(t, map[string]file{
		"etc/docker":                         owned(d(0o755), 0, 0),
		"etc/docker/daemon.json":             owned(f(goodDaemonJSON, 0o644), 0, 0),
		"etc/docker/ca.pem":                  owned(f("ca", 0o444), 0, 0),
		"etc/docker/cert.pem":                owned(f("cert", 0o444), 0, 0),
		"etc/docker/key.pem":                 owned(f("key", 0o400), 0, 0),
		"etc/docker/certs.d/reg:5000/ca.crt": owned(f("ca", 0o444), 0, 0),
		"etc/default/docker":                 owned(f("DOCKER_OPTS=\n", 0o644), 0, 0),
		"etc/group":                          f("root:x:0:\ndocker:x:999:\n", 0o644),
		"etc/audit/rules.d/docker.rules":     f(allAuditRules, 0o640),
		"lib/systemd/system/docker.service":  owned(f("[Service]\n", 0o644), 0, 0),
		"lib/systemd/system/docker.socket":   owned(f("[Socket]\n", 0o644), 0, 0),
		"var/run":                            link("/run"),
		"run/docker.sock":                    owned(f("", 0o660), 0, 999),
		"run/containerd":                     d(0o711),
		"var/lib/docker":                     d(0o710),
		"usr/bin/dockerd":                    f("elf", 0o755),
		"usr/bin/containerd":                 f("elf", 0o755),
		"usr/bin/runc":                       f("elf", 0o755),
		"proc/self/mountinfo":                f("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 8:17 / /var/lib/docker rw,relatime - xfs /dev/sdb1 rw\n", 0o444),
		"proc/4242/comm":                     f("dockerd\n", 0o444),
		"proc/4242/cmdline":                  f("/usr/bin/dockerd\x00--containerd=/run/containerd/containerd.sock\x00", 0o444),
		"proc/1/comm":                        f("systemd\n", 0o444),
	})
}

func badRoot(t *testing.T) string {
	return writeRoot(t, map[string]file{
		"etc/docker":                         owned(d(0o777), 1000, 1000),
		"etc/docker/daemon.json":             owned(f(badDaemonJSON, 0o666), 1000, 0),
		"etc/default/docker":                 owned(f("DOCKER_OPTS=\n", 0o666), 0, 0),
		"etc/docker/certs.d/reg:5000/ca.crt": owned(f("ca", 0o644), 1000, 0),
		"etc/group":                          f("root:x:0:\ndocker:x:999:alice,bob\n", 0o644),
		"etc/audit/rules.d/other.rules":      f("-w /etc/passwd -k identity\n", 0o640),
		"lib/systemd/system/docker.service":  owned(f("[Service]\n", 0o666), 1000, 1000),
		"lib/systemd/system/docker.socket":   owned(f("[Socket]\n", 0o644), 0, 0),
		"var/run":                            link("/run"),
		"run/docker.sock":                    owned(f("", 0o666), 0, 0),
		"var/lib/docker":                     d(0o755),
		"usr/bin/dockerd":                    f("elf", 0o755),
		"usr/bin/runc":                       f("elf", 0o755),
		"proc/mounts":                        f("/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n", 0o444),
		"etc/fstab":                          f("# static\n/dev/sda1 / ext4 defaults 0 1\n", 0o644),
		"proc/77/comm":                       f("dockerd\n", 0o444),
		"proc/77/cmdline":                    f("dockerd\x00--icc=true\x00-H\x00tcp://0.0.0.0:2376\x00--experimental\x00", 0o444),
	})
}

func runRoot(t *testing.T, root string, checks ...string) *Report {
	t.Helper()
	rep, err := Run(context.Background(), Options{Root: root, Checks: checks,
		Now: func() time.Time { return time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) }, Host: "golden"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func statuses(rep *Report, kind string) map[string]Status {
	m := map[string]Status{}
	for _, r := range rep.Results {
		if r.Target.Kind == kind {
			m[r.ID] = r.Result
		}
	}
	return m
}

func TestPreparedRoots(t *testing.T) {
	good := runRoot(t, goodRoot(t), "1", "2", "3")
	bad := runRoot(t, badRoot(t), "1", "2", "3")
	tests := []struct {
		id        string
		kind      string
		good, bad Status
	}{
		{"1.1.1", KindHost, Pass, Fail},
		{"1.1.2", KindHost, Pass, Warn},
		{"1.1.3", KindHost, Pass, Fail},
		{"1.1.4", KindHost, Pass, Note}, // bad root has no /run/containerd
		{"1.1.5", KindHost, Pass, Fail},
		{"1.1.6", KindHost, Pass, Fail},
		{"1.1.7", KindHost, Pass, Fail},
		{"1.1.9", KindHost, Pass, Fail},
		{"1.1.10", KindHost, Pass, Fail},
		{"1.1.11", KindHost, Pass, Fail}, // good: under the /etc/docker watch
		{"1.1.13", KindHost, Note, Note},
		{"1.1.14", KindHost, Pass, Note},
		{"1.1.18", KindHost, Pass, Fail},
		{"2.2", KindDaemon, Pass, Fail},
		{"2.3", KindDaemon, Pass, Fail},
		{"2.4", KindDaemon, Pass, Fail},
		{"2.5", KindDaemon, Pass, Fail},
		{"2.6", KindDaemon, Pass, Fail},
		{"2.7", KindDaemon, Pass, Fail},
		{"2.8", KindDaemon, Pass, Info},
		{"2.9", KindDaemon, Pass, Warn},
		{"2.10", KindDaemon, Pass, Info},
		{"2.12", KindDaemon, Pass, Warn},
		{"2.13", KindDaemon, Pass, Warn},
		{"2.14", KindDaemon, Pass, Fail},
		{"2.15", KindDaemon, Pass, Fail},
		{"2.16", KindDaemon, Pass, Fail},
		{"2.17", KindDaemon, Note, Fail},
		{"2.18", KindDaemon, Pass, Fail},
		{"3.1", KindHost, Pass, Fail},
		{"3.2", KindHost, Pass, Fail},
		{"3.3", KindHost, Pass, Pass},
		{"3.4", KindHost, Pass, Pass},
		{"3.5", KindHost, Pass, Fail},
		{"3.6", KindHost, Pass, Fail},
		{"3.7", KindHost, Pass, Fail},
		{"3.8", KindHost, Pass, Fail},
		{"3.9", KindHost, Pass, Note},
		{"3.10", KindHost, Pass, Note},
		{"3.13", KindHost, Pass, Note},
		{"3.14", KindHost, Pass, Note},
		{"3.15", KindHost, Pass, Pass}, // root:root is stricter than root:docker
		{"3.16", KindHost, Pass, Fail},
		{"3.17", KindHost, Pass, Fail},
		{"3.18", KindHost, Pass, Fail},
		{"3.19", KindHost, Pass, Pass},
		{"3.20", KindHost, Pass, Fail},
		{"3.23", KindHost, Note, Note},
	}
	gs, gd := statuses(good, KindHost), statuses(good, KindDaemon)
	bs, bd := statuses(bad, KindHost), statuses(bad, KindDaemon)
	for _, tc := range tests {
		g, b := gs, bs
		if tc.kind == KindDaemon {
			g, b = gd, bd
		}
		if g[tc.id] != tc.good {
			t.Errorf("good root: %s = %q, want %q (%s)", tc.id, g[tc.id], tc.good, evidence(good, tc.id))
		}
		if b[tc.id] != tc.bad {
			t.Errorf("bad root: %s = %q, want %q (%s)", tc.id, b[tc.id], tc.bad, evidence(bad, tc.id))
		}
	}
	for _, r := range good.Results {
		if r.Result == Fail {
			t.Errorf("good root fails %s: %s", r.ID, r.Evidence)
		}
	}
	if len(good.Warnings) > 0 {
		t.Errorf("good root warnings: %q", good.Warnings)
	}
	// The daemon's TCP sockets are part of the exposure summary.
	if n := len(bad.Exposure.DaemonTCP); n != 2 || bad.Exposure.DaemonTCP[0].TLSVerify {
		t.Errorf("bad root daemon TCP exposure = %+v, want 2 sockets without TLS", bad.Exposure.DaemonTCP)
	}
	if n := len(good.Exposure.DaemonTCP); n != 1 || !good.Exposure.DaemonTCP[0].TLSVerify {
		t.Errorf("good root daemon TCP exposure = %+v, want 1 socket with TLS verification", good.Exposure.DaemonTCP)
	}
	// Evidence names what was observed.
	for id, want := range map[string]string{"1.1.2": "alice, bob", "2.5": "reg.local:5000", "3.2": "0666", "2.7": "tcp://0.0.0.0:2376"} {
		if e := evidence(bad, id); !strings.Contains(e, want) {
			t.Errorf("bad root %s evidence %q does not mention %q", id, e, want)
		}
	}
}

func evidence(rep *Report, id string) string {
	for _, r := range rep.Results {
		if r.ID == id {
			return r.Evidence
		}
	}
	return "no result"
}

// TestGoldenBadRoot pins the JSON of the bad root's audit.
func TestGoldenBadRoot(t *testing.T) {
	root := badRoot(t)
	rep := runRoot(t, root)
	var buf bytes.Buffer
	if err := Write(&buf, "json", rep, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got := bytes.ReplaceAll(buf.Bytes(), []byte(root), []byte("ROOT"))
	golden := filepath.Join("testdata", "bad-root.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("JSON differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range back.Results {
		for _, k := range []string{"id", "title", "result", "severity", "target", "evidence", "remediation"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("result %v has no %q", r, k)
			}
		}
	}
}

// TestDaemonSettings evaluates single daemon.json and flag variations.
func TestDaemonSettings(t *testing.T) {
	tests := []struct {
		name, json, args string
		id               string
		want             Status
	}{
		{"icc default", `{}`, "", "2.2", Fail},
		{"icc off in file", `{"icc": false}`, "", "2.2", Pass},
		{"icc off by flag", `{}`, "--icc=false", "2.2", Pass},
		{"log level warn", `{"log-level": "warn"}`, "", "2.3", Warn},
		{"log level flag debug", `{}`, "-l debug", "2.3", Fail},
		{"tcp without tls", `{}`, "-H tcp://0.0.0.0:2375", "2.7", Fail},
		{"tcp with tls but no verify", `{"tls": true, "tlscert": "c", "tlskey": "k"}`, "--host=tcp://0.0.0.0:2376", "2.7", Fail},
		{"tcp with tlsverify flags", `{}`, "-H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/ca --tlscert=/c --tlskey=/k", "2.7", Pass},
		{"unix only", `{"hosts": ["unix:///var/run/docker.sock"]}`, "", "2.7", Pass},
		{"userns flag", `{}`, "--userns-remap=default", "2.9", Pass},
		{"nnp flag", `{}`, "--no-new-privileges", "2.14", Pass},
		{"nnp false", `{"no-new-privileges": false}`, "", "2.14", Fail},
		{"live restore flag", `{}`, "--live-restore", "2.15", Pass},
		{"userland proxy flag off", `{}`, "--userland-proxy=false", "2.16", Pass},
		{"insecure registry flag", `{}`, "--insecure-registry 10.0.0.1:5000", "2.5", Fail},
		{"aufs flag", `{}`, "-s aufs", "2.6", Fail},
		{"experimental flag", `{}`, "--experimental", "2.18", Fail},
		{"authz flag", `{}`, "--authorization-plugin=opa", "2.12", Pass},
		{"gelf logs", `{"log-driver": "gelf"}`, "", "2.13", Pass},
		{"default ulimit flag", `{}`, "--default-ulimit nofile=1024:2048", "2.8", Pass},
		{"seccomp custom", `{"seccomp-profile": "/etc/docker/seccomp.json"}`, "", "2.17", Pass},
		{"iptables default", `{}`, "", "2.4", Pass},
		{"empty daemon.json", ``, "", "2.2", Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]file{"etc/docker/daemon.json": f(tc.json, 0o644)}
			if tc.args != "" {
				files["proc/9/comm"] = f("dockerd\n", 0o444)
				files["proc/9/cmdline"] = f("dockerd\x00"+strings.ReplaceAll(tc.args, " ", "\x00")+"\x00", 0o444)
			}
			rep := runRoot(t, writeRoot(t, files), "2")
			if got := statuses(rep, KindDaemon)[tc.id]; got != tc.want {
				t.Errorf("%s = %q, want %q (%s)", tc.id, got, tc.want, evidence(rep, tc.id))
			}
		})
	}
}

// TestNoDaemonKnown: a root with nothing about Docker marks daemon checks NOTE and the report partial.
func TestNoDaemonKnown(t *testing.T) {
	rep := runRoot(t, t.TempDir())
	for _, r := range rep.Results {
		if r.Target.Kind == KindDaemon && r.Result != Note {
			t.Errorf("%s = %s without any daemon information", r.ID, r.Result)
		}
	}
	if len(rep.Partial) != 2 {
		t.Fatalf("partial = %q, want the daemon and the container sections", rep.Partial)
	}
}

func TestSelectChecks(t *testing.T) {
	root := badRoot(t)
	tests := []struct {
		checks, skip []string
		want         []string // ids that must appear
		absent       []string
	}{
		{[]string{"2.2"}, nil, []string{"2.2"}, []string{"2.3", "1.1.1", "3.1"}},
		{[]string{"1.1"}, []string{"1.1.2"}, []string{"1.1.1", "1.1.18"}, []string{"1.1.2", "2.2"}},
		{nil, []string{"1", "3"}, []string{"2.2", "2.18"}, []string{"1.1.1", "3.1"}},
		{[]string{"3.1*"}, nil, []string{"3.1", "3.15", "3.18"}, []string{"3.2", "2.2"}},
	}
	for _, tc := range tests {
		rep, err := Run(context.Background(), Options{Root: root, Checks: tc.checks, Skip: tc.skip})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range rep.Results {
			got[r.ID] = true
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("checks %v skip %v: %s missing", tc.checks, tc.skip, id)
			}
		}
		for _, id := range tc.absent {
			if got[id] {
				t.Errorf("checks %v skip %v: %s present", tc.checks, tc.skip, id)
			}
		}
	}
}

// TestSecretsInDockerdFlagsAreMasked: evidence quotes dockerd's flags but
// never a credential passed on its command line.
func TestSecretsInDockerdFlagsAreMasked(t *testing.T) {
	root := writeRoot(t, map[string]file{
		"proc/3/comm":    f("dockerd\n", 0o444),
		"proc/3/cmdline": f("dockerd\x00--log-driver=splunk\x00--log-opt\x00splunk-token=S3CR3T-TOKEN-1\x00--log-opt=splunk-url=https://u:S3CR3T-PASS@x\x00--icc=false\x00", 0o444),
	})
	rep := runRoot(t, root)
	var buf bytes.Buffer
	if err := Write(&buf, "json", rep, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "S3CR3T") {
		t.Fatalf("a secret from the dockerd command line is in the report:\n%s", out)
	}
	if !strings.Contains(out, "splunk-token=***") || !strings.Contains(out, "--icc=false") {
		t.Errorf("evidence should keep flag names and other flags: %s", evidence(rep, "2.2"))
	}
}

func TestEventSeverities(t *testing.T) {
	rep := &Report{Results: []Result{
		{ID: "5.5", Result: Fail, Severity: Critical},
		{ID: "5.30", Result: Warn, Severity: Low},
		{ID: "2.9", Result: Warn, Severity: Critical},
		{ID: "5.4", Result: Pass, Severity: High},
		{ID: "1.1.13", Result: Note, Severity: Medium},
	}}
	want := []int{2, 5, 4, 6, 6} // crit, notice, warning, info, info
	evs := Events(rep)
	if len(evs) != len(want)+1 || evs[5].Kind != "audit-summary" {
		t.Fatalf("%d events", len(evs))
	}
	for i, e := range evs[:5] {
		if int(e.Severity) != want[i] {
			t.Errorf("%s %s → syslog %d, want %d", rep.Results[i].Result, rep.Results[i].Severity, e.Severity, want[i])
		}
	}
}
