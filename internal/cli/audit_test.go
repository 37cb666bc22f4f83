package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

// auditRoot is a host root with a bad daemon.json and a world-writable socket.
func auditRoot(t *testing.T) string {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"etc/docker/daemon.json": `{"hosts": ["tcp://0.0.0.0:2375"], "icc": true}`,
		"etc/group":              "docker:x:999:alice\n",
		"run/docker.sock":        "",
	})
	if err := os.Chmod(filepath.Join(root, "run/docker.sock"), 0o666); err != nil {
		t.Fatal(err)
	}
	return root
}

const noDocker = "unix:///nonexistent/docker.sock"

func TestAuditExitCodeAndJSON(t *testing.T) {
	root := auditRoot(t)
	code, out, errOut := run(t, "audit", "--root", root, "--docker-host", noDocker, "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Results []struct {
			ID, Result, Severity string
			Target               struct{ Kind string }
		}
		Partial []string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rep.Results {
		found = found || (r.ID == "2.7" && r.Result == "FAIL" && r.Target.Kind == "daemon")
	}
	if !found || len(rep.Partial) == 0 || !strings.Contains(errOut, "not audited") {
		t.Errorf("2.7 FAIL found=%v, partial %q, stderr %q", found, rep.Partial, errOut)
	}
	// 2.7 (TLS) is CRITICAL: --exit-code fires at CRITICAL ...
	if code, _, _ := run(t, "audit", "--root", root, "--docker-host", noDocker, "--exit-code", "3", "--severity", "critical", "-q"); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	// ... and not when only 2.2 (MEDIUM) is checked and the bar is HIGH.
	if code, _, _ := run(t, "audit", "--root", root, "--docker-host", noDocker, "--checks", "2.2", "--exit-code", "3", "--severity", "HIGH", "-q"); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

func TestAuditTableAndSIEMFormats(t *testing.T) {
	root := auditRoot(t)
	_, out, _ := run(t, "audit", "--root", root, "--docker-host", noDocker, "-q")
	for _, want := range []string{"HOST", "DAEMON", "FAIL  CRITICAL  2.7", "daemon API  tcp://0.0.0.0:2375 (NO TLS", "PARTIAL: containers: not audited", "checks on the host"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = run(t, "audit", "--root", root, "--docker-host", noDocker, "-q", "--format", "jsonl", "--checks", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last map[string]any
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
	}
	if last["kind"] != "audit-summary" || len(lines) < 15 {
		t.Errorf("%d lines, last %v", len(lines), last)
	}
	_, out, _ = run(t, "audit", "--root", root, "--docker-host", noDocker, "-q", "--format", "syslog", "--checks", "2.7")
	if !strings.HasPrefix(out, "<") || !strings.Contains(out, `[bulkhead@32473 `) || !strings.Contains(out, `id="2.7"`) {
		t.Errorf("syslog output:\n%s", out)
	}
}

func TestAuditSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	code, _, errOut := run(t, "audit", "--root", auditRoot(t), "--docker-host", noDocker, "-q", "--checks", "2.2,2.7", "-o", filepath.Join(t.TempDir(), "r.txt"),
		"--syslog", "udp://"+pc.LocalAddr().String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	buf := make([]byte, 65536)
	var got []string
	for range 3 { // two results and the summary
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	if !strings.Contains(got[2], "audit-summary") {
		t.Errorf("messages %q", got)
	}
}

func TestAuditBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--format", "xml"},
		{"--respond", "kill"},
		{"--root", "/nonexistent-root"},
		{"--severity", "huge"},
		{"--respond", "stop", "--for", "5.5", "--respond-allow", "prod"},
		{"--respond", "stop"},
		{"--syslog", "ftp://x"},
		{"--checks", "9.9"},
		{"--skip-checks", "5.5,banana"},
		{"--respond", "stop", "--for", "5.99"},
	} {
		code, _, errOut := run(t, append([]string{"audit", "--docker-host", noDocker, "--root", t.TempDir()}, args...)...)
		if code != ExitError || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestAuditRespondCLI: the dry run prints the plan and changes nothing;
// --yes stops the failing container and leaves the allow-listed one.
func TestAuditRespondCLI(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	victim := dockertest.Create(t, c, "bh-cli-victim", &container.Config{}, &container.HostConfig{Privileged: false, CapAdd: []string{"SYS_ADMIN"}})
	keep := dockertest.Create(t, c, "bh-cli-keep", &container.Config{}, &container.HostConfig{CapAdd: []string{"SYS_ADMIN"}})
	dockertest.Start(t, c, victim)
	dockertest.Start(t, c, keep)
	state := func(id string) string {
		j, err := c.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State.Status
	}
	// --respond-only keeps other people's containers on this engine out of the test.
	args := []string{"audit", "--root", t.TempDir(), "--checks", "5.4", "--respond", "stop", "--for", "5.4",
		"--respond-only", "name=bh-cli-*", "--respond-allow", "name=bh-cli-keep", "-q"}
	code, out, errOut := run(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Responses []struct{ Container, Outcome, Why string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, a := range rep.Responses {
		outcomes[a.Container] = a.Outcome
	}
	if outcomes["bh-cli-victim"] != "dry-run" || outcomes["bh-cli-keep"] != "skipped" {
		t.Errorf("JSON responses %+v", rep.Responses)
	}
	for _, want := range []string{"would stop container bh-cli-victim", "skip stop container bh-cli-keep", "allow-listed by name=bh-cli-keep", "dry run, nothing was changed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dry run stderr lacks %q:\n%s", want, errOut)
		}
	}
	if state(victim) != "running" || state(keep) != "running" {
		t.Fatal("the dry run changed a container")
	}
	// The flag's value counts, not its presence.
	if code, _, errOut := run(t, append(args, "--no-dry-run=false")...); code != 0 || !strings.Contains(errOut, "dry run, nothing was changed") {
		t.Errorf("--no-dry-run=false: exit %d\n%s", code, errOut)
	}
	if state(victim) != "running" {
		t.Fatal("--no-dry-run=false changed a container")
	}
	code, out, errOut = run(t, append(args, "--yes", "--format", "jsonl")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"kind":"response-action"`) || !strings.Contains(out, `"outcome":"done"`) {
		t.Errorf("no response-action event in the JSON lines:\n%s", out)
	}
	sc := bufio.NewScanner(strings.NewReader(errOut))
	did := false
	for sc.Scan() {
		did = did || strings.HasPrefix(sc.Text(), "respond: did stop container bh-cli-victim")
	}
	if !did {
		t.Errorf("stderr:\n%s", errOut)
	}
	if s := state(victim); s != "exited" {
		t.Errorf("victim is %s, want exited", s)
	}
	if s := state(keep); s != "running" {
		t.Errorf("allow-listed container is %s, want running", s)
	}
}

func TestAuditListChecks(t *testing.T) {
	code, out, _ := run(t, "audit", "--list-checks")
	if code != 0 || !strings.Contains(out, "5.32") || !strings.Contains(out, "CRITICAL") || strings.Count(out, "\n") < 80 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	_, out, _ = run(t, "audit", "--list-checks", "--format", "json")
	var cs []map[string]string
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) < 80 || cs[0]["remediation"] == "" {
		t.Errorf("%v: %d checks", err, len(cs))
	}
}
