package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

// TestDriftCommand runs `bulkhead drift` against the real dockerd: a
// container that drops and runs a program, and an untouched one.
func TestDriftCommand(t *testing.T) {
	cli := dockertest.Client(t)
	dropper := dockertest.Run(t, cli, "sh", "-c", "cp /bin/sleep /tmp/x; chmod +x /tmp/x; exec /tmp/x 300")
	clean := dockertest.Run(t, cli, "sleep", "300")
	dockertest.WaitExe(t, cli, dropper, "/tmp/x")
	dockertest.WaitExe(t, cli, clean, "/usr/bin/sleep")

	code, out, errOut := run(t, "drift", dropper[:12], "--format", "jsonl", "--exit-code", "1")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (drift found); stderr %s", code, errOut)
	}
	kinds := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Container                   struct{ Name, ID string }
			Image, Path, Kind, Severity string
			Detail                      map[string]any
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		if f.Container.ID != dropper || f.Container.Name == "" || f.Image != dockertest.Image || f.Severity != "HIGH" || f.Path != "/tmp/x" || f.Detail == nil {
			t.Errorf("finding %+v", f)
		}
		kinds[f.Kind] = true
	}
	if !kinds["exec-not-in-image"] || !kinds["added-executable"] || len(kinds) != 2 {
		t.Errorf("kinds %v", kinds)
	}

	code, out, errOut = run(t, "drift", clean, "--exit-code", "1")
	if code != 0 || !strings.Contains(out, "0 findings") {
		t.Errorf("untouched container: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = run(t, "drift", clean, dropper, "--format", "json")
	var rep struct {
		Containers []struct{ Findings int }
		Findings   []json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	if len(rep.Containers) != 2 || len(rep.Findings) != 2 {
		t.Errorf("json report: %d containers, %d findings", len(rep.Containers), len(rep.Findings))
	}

	if code, _, errOut = run(t, "drift", "bulkhead-no-such-container"); code != 2 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown container: exit %d, stderr %s", code, errOut)
	}
	if code, _, errOut = run(t, "drift", "--timeout", "1ns", clean); code != 2 || !strings.Contains(errOut, "--timeout") {
		t.Errorf("timeout: exit %d, stderr %s", code, errOut)
	}
	if code, _, errOut = run(t, "drift", "--format", "xml", clean); code != 2 || !strings.Contains(errOut, "--format") {
		t.Errorf("bad format: exit %d, stderr %s", code, errOut)
	}
}

// TestDriftRespond: --respond is a dry run unless --yes; with --yes the
// drifted container is paused, an allow-listed drifted one and a clean
// one are not touched.
func TestDriftRespond(t *testing.T) {
	cli := dockertest.Client(t)
	drop := []string{"sh", "-c", "cp /bin/sleep /tmp/x; chmod +x /tmp/x; exec /tmp/x 300"}
	victim := dockertest.Create(t, cli, dockertest.Name("bh-drift-victim"), &container.Config{Cmd: drop}, nil)
	prod := dockertest.Create(t, cli, dockertest.Name("bh-drift-prod"), &container.Config{Cmd: drop, Labels: map[string]string{"env": "prod"}}, nil)
	clean := dockertest.Create(t, cli, dockertest.Name("bh-drift-clean"), nil, nil)
	for _, id := range []string{victim, prod, clean} {
		dockertest.Start(t, cli, id)
	}
	dockertest.WaitExe(t, cli, victim, "/tmp/x")
	dockertest.WaitExe(t, cli, prod, "/tmp/x")
	dockertest.WaitExe(t, cli, clean, "/usr/bin/sleep")
	state := func(id string) string {
		t.Helper()
		info, err := cli.ContainerInspect(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Status
	}
	args := []string{"drift", victim, prod, clean, "--respond", "pause", "--for", "exec-not-in-image", "--respond-allow", "label=env=prod"}

	code, _, errOut := run(t, args...)
	if code != 0 || !strings.Contains(errOut, "would pause container") || !strings.Contains(errOut, "dry run, nothing was changed") {
		t.Fatalf("dry run: exit %d\n%s", code, errOut)
	}
	for _, id := range []string{victim, prod, clean} {
		if s := state(id); s != "running" {
			t.Errorf("dry run left %s %s", id[:12], s)
		}
	}

	code, out, errOut := run(t, append(args, "--yes", "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if s := state(victim); s != "paused" {
		t.Errorf("drifted container is %s, want paused\n%s", s, errOut)
	}
	if s := state(prod); s != "running" {
		t.Errorf("allow-listed container is %s, want running", s)
	}
	if s := state(clean); s != "running" {
		t.Errorf("clean container is %s, want running", s)
	}
	var rep struct {
		Responses []struct{ ID, Outcome string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, r := range rep.Responses {
		outcomes[r.ID] = r.Outcome
	}
	if outcomes[clean] != "" || outcomes[victim] == "" || outcomes[prod] == "" || outcomes[victim] == outcomes[prod] {
		t.Errorf("responses in the report: %v", outcomes)
	}
	cli.ContainerUnpause(context.Background(), victim)

	if code, _, errOut := run(t, "drift", clean, "--respond", "stop"); code != 2 || !strings.Contains(errOut, "--for") {
		t.Errorf("--respond without --for: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "drift", clean, "--respond", "stop", "--for", "nonsense"); code != 2 || !strings.Contains(errOut, "exec-not-in-image") {
		t.Errorf("--for nonsense: exit %d %s", code, errOut)
	}
}
