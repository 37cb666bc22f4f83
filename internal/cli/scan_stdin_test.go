package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// runWithStdin is run with stdin read from in: Run's contract (exit code,
// error on stderr) with the root command's input set.
func runWithStdin(t *testing.T, in io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	g := &globals{stdout: &stdout, stderr: &stderr}
	root := newRoot(g)
	root.SetArgs(append([]string{"--cache-dir", t.TempDir()}, args...))
	root.SetIn(in)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	code := ExitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = ExitError
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		fmt.Fprintf(&stderr, "bulkhead: %v\n", err)
	}
	return code, stdout.String(), stderr.String()
}

// Two documents, as helm template writes them: a privileged Deployment and
// a Pod on the host network.
const stdinManifests = `# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:latest
          securityContext:
            privileged: true
---
# Source: web/templates/debug.yaml
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  hostNetwork: true
  containers:
    - name: shell
      image: busybox:1.36
`

func TestScanFSStdinJSON(t *testing.T) {
	code, out, errOut := runWithStdin(t, strings.NewReader(stdinManifests), "scan", "fs", "-", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var doc struct {
		Artifact          struct{ Type, Name string }
		Packages          []json.RawMessage
		Vulnerabilities   []json.RawMessage
		Misconfigurations []struct {
			ID, Severity, Path, Resource string
			Line                         int
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if doc.Artifact.Type != "filesystem" || doc.Artifact.Name != "-" {
		t.Errorf("artifact = %+v, want filesystem -", doc.Artifact)
	}
	if doc.Vulnerabilities != nil {
		t.Errorf("vulnerabilities = %s, want none: stdin is only checked for misconfigurations", doc.Vulnerabilities)
	}
	found := map[string]bool{}
	for _, m := range doc.Misconfigurations {
		if m.Path != stdinName {
			t.Errorf("%s: path %q, want %q", m.ID, m.Path, stdinName)
		}
		found[fmt.Sprintf("%s %s line %d %s", m.ID, m.Severity, m.Line, m.Resource)] = true
	}
	// One finding from each document, at its line in the stream.
	for _, want := range []string{
		"BH-K8S-001 CRITICAL line 13 Deployment/web container/app",
		"BH-K8S-002 HIGH line 21 Pod/debug",
	} {
		if !found[want] {
			t.Errorf("no finding %q in %v", want, found)
		}
	}
}

func TestScanFSStdinExitCode(t *testing.T) {
	// Findings and --exit-code: the code, after the report.
	code, out, _ := runWithStdin(t, strings.NewReader(stdinManifests), "scan", "fs", "-", "--exit-code", "3")
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if !strings.Contains(out, "Misconfigurations: ") || !strings.Contains(out, "BH-K8S-001") {
		t.Errorf("table lacks the findings:\n%s", out)
	}

	// --severity filters the report and the exit code.
	code, out, errOut := runWithStdin(t, strings.NewReader(stdinManifests), "scan", "fs", "-",
		"--severity", "CRITICAL", "--exit-code", "3")
	if code != 3 {
		t.Errorf("--severity CRITICAL: exit %d, want 3 (stderr %s)", code, errOut)
	}
	if !strings.Contains(out, "Misconfigurations: 1 (CRITICAL: 1,") || strings.Contains(out, "BH-K8S-002") {
		t.Errorf("--severity CRITICAL: table:\n%s", out)
	}

	// Nothing left after --skip-checks: exit 0 with --exit-code.
	code, out, errOut = runWithStdin(t, strings.NewReader(stdinManifests), "scan", "fs", "-",
		"--skip-checks", "BH-K8S-*", "--exit-code", "3")
	if code != ExitOK {
		t.Errorf("all checks skipped: exit %d, want 0 (stderr %s)", code, errOut)
	}
	if !strings.Contains(out, "Misconfigurations: 0 (") {
		t.Errorf("all checks skipped: table:\n%s", out)
	}
	for _, format := range []string{"sarif", "junit"} {
		code, out, errOut = runWithStdin(t, strings.NewReader(stdinManifests), "scan", "fs", "-", "--format", format)
		if code != ExitOK || !strings.Contains(out, "BH-K8S-001") {
			t.Errorf("--format %s: exit %d, stderr %s, output:\n%s", format, code, errOut, out)
		}
	}
}

func TestScanFSStdinErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		args []string
		want string
	}{
		"not a manifest":   {"hello world\n", nil, "not a Dockerfile, Kubernetes manifest or Compose file"},
		"empty":            {"", nil, "not a Dockerfile"},
		"unknown check id": {stdinManifests, []string{"--skip-checks", "BH-NOPE-1"}, "unknown check ID"},
		"bad format":       {stdinManifests, []string{"--format", "xml"}, "format"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"scan", "fs", "-", "--exit-code", "1"}, tc.args...)
			code, out, errOut := runWithStdin(t, strings.NewReader(tc.in), args...)
			if code != ExitError {
				t.Errorf("exit %d, want %d (no verdict); stdout:\n%s", code, ExitError, out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q lacks %q", errOut, tc.want)
			}
		})
	}
}
