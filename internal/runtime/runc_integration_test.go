package runtime

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// runcContainer starts `sleep 300` with runc directly (no Docker, no
// containerd) from a copy of the fixture root filesystem, and returns its
// id, bundle and init PID. It is killed and deleted when the test ends.
func runcContainer(t *testing.T) (id, bundle string, pid int) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a runc container; skipped in -short mode")
	}
	need := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/runc"); err != nil {
			need("runc is not installed (Debian: apt-get install runc)")
		}
		runc = "/usr/sbin/runc"
	}
	if os.Geteuid() != 0 {
		need("runc containers need root")
	}
	dir := os.Getenv("BULKHEAD_FIXTURES")
	if dir == "" {
		dir = fixture.Dir(t)
	}
	bundle = t.TempDir()
	// Hard links are enough: runc spec makes the root read-only, so no
	// fixture file is written through them. Across filesystems, copy.
	src, dst := filepath.Join(dir, "rootfs-base"), filepath.Join(bundle, "rootfs")
	if err := exec.Command("cp", "-al", src, dst).Run(); err != nil {
		os.RemoveAll(dst)
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("copying the fixture rootfs: %v: %s", err, out)
		}
	}
	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	var spec map[string]any
	cfgPath := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "300"}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true} // the rootfs is hard links to the fixture
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	id = dockertest.Name("bhinv-runc")
	// With terminal false the container inherits runc's stdio: give it a
	// file, not a pipe, or waiting for runc waits for sleep 300.
	logPath := filepath.Join(t.TempDir(), "runc.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	run := exec.Command(runc, "run", "--detach", "--bundle", bundle, id)
	run.Stdout, run.Stderr = logf, logf
	if err := run.Run(); err != nil {
		out, _ := os.ReadFile(logPath)
		t.Fatalf("runc run --detach: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(runc, "kill", id, "KILL").Run()
		exec.Command(runc, "delete", "--force", id).Run()
	})
	out, err := exec.Command(runc, "state", id).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		t.Fatalf("runc state %s: %v", out, err)
	}
	return id, bundle, st.Pid
}

// TestRuncUnmanaged: a container started with runc directly appears in the
// inventory as unmanaged, with its PID, root filesystem and bundle.
func TestRuncUnmanaged(t *testing.T) {
	id, bundle, pid := runcContainer(t)
	dockertest.Client(t) // the API must answer for "unmanaged" to mean something
	snap, err := Discover(context.Background(), Options{Docker: DockerOptions{Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Docker == nil {
		t.Fatalf("the Docker API did not answer: %q", snap.Warnings)
	}
	c := find(snap, id)
	if c == nil {
		t.Fatalf("runc container %s (pid %d) not found; proc stats %+v, warnings %q", id, pid, snap.Proc, snap.Warnings)
	}
	if !c.Unmanaged || c.Runtime != RuntimeRunc || !slices.Equal(c.Sources, []string{SourceProc}) || c.State != "running" {
		t.Errorf("container = %+v", *c)
	}
	if !slices.Contains(c.PIDs, pid) {
		t.Errorf("PIDs %v do not hold runc's init pid %d", c.PIDs, pid)
	}
	if c.RootFS == nil || c.RootFS.Root != filepath.Join(bundle, "rootfs") {
		t.Errorf("rootfs = %+v, want the bundle's rootfs %s", c.RootFS, filepath.Join(bundle, "rootfs"))
	}
	if c.Bundle != bundle || c.Created.IsZero() {
		t.Errorf("bundle = %q created = %v, want %q", c.Bundle, c.Created, bundle)
	}

	// Gone once runc deletes it.
	exec.Command("runc", "kill", id, "KILL").Run()
	deadline := time.Now().Add(10 * time.Second)
	for {
		exec.Command("runc", "delete", "--force", id).Run()
		res, err := ScanProc(context.Background(), ProcOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range res.Containers {
			found = found || x.ID == id
		}
		if !found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("runc container still found 10s after it was deleted")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
