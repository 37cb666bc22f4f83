package cli

import (
	"encoding/json"
	"strings"
	"testing"

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
