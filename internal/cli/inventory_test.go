package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/runtime"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

var updateInventory = flag.Bool("update-inventory", false, "rewrite internal/cli/testdata/inventory/*.golden")

// runIn runs bulkhead with a given cache dir.
func runIn(cache string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"--cache-dir", cache}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// inventoryDoc reads `inventory --format json` output strictly: an unknown
// top-level field or a missing one fails, since other tools rely on them.
func inventoryDoc(t *testing.T, out string) runtime.Report {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"host", "time", "partial", "warnings", "containers", "images", "changes"} {
		if _, ok := top[k]; !ok {
			t.Errorf("JSON has no %q", k)
		}
	}
	var ch map[string]json.RawMessage
	json.Unmarshal(top["changes"], &ch)
	for _, k := range []string{"added", "removed", "changed"} {
		if v, ok := ch[k]; !ok || string(v) == "null" {
			t.Errorf("changes.%s is missing or null: %s", k, top["changes"])
		}
	}
	var r runtime.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return r
}

func refIDs(r []runtime.ContainerRef) []string {
	var ids []string
	for _, x := range r {
		ids = append(ids, x.ID)
	}
	return ids
}

// TestInventorySnapshots runs the command against the real dockerd: a
// container started between two runs is added, removed → removed.
func TestInventorySnapshots(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.EnsureImage(t, cli)
	cache := t.TempDir()

	code, out, errOut := runIn(cache, "inventory", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	first := inventoryDoc(t, out)
	if !first.Changes.Since.IsZero() || len(first.Changes.Added) != 0 {
		t.Errorf("first run reports changes: %+v", first.Changes)
	}
	if first.Docker == nil || first.Proc == nil {
		t.Errorf("docker %+v proc %+v", first.Docker, first.Proc)
	}

	name := dockertest.Name("bhinv-cli")
	id := dockertest.Create(t, cli, name, nil, nil)
	dockertest.Start(t, cli, id)
	code, out, errOut = runIn(cache, "inventory", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	second := inventoryDoc(t, out)
	if !slices.Contains(refIDs(second.Changes.Added), id) || !second.Changes.Since.Equal(first.Time) {
		t.Errorf("started container not added: %+v", second.Changes)
	}

	dockertest.Remove(cli, id)
	// For a SIEM: one event per change, as JSON lines.
	code, out, errOut = runIn(cache, "inventory", "--format", "jsonl", "--no-save")
	if code != ExitOK {
		t.Fatalf("jsonl: exit %d: %s", code, errOut)
	}
	removed := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		removed = removed || (ev.Kind == "container-removed" && ev.ID == id)
	}
	if !removed {
		t.Errorf("no container-removed event for %s in:\n%s", id[:12], out)
	}
	code, out, errOut = runIn(cache, "inventory", "--changes")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "  - "+name+" ("+id[:12]+", docker, "+dockertest.Image+")") || strings.Contains(out, "IMAGES") {
		t.Errorf("--changes table does not list the removal (or lists more):\n%s", out)
	}

	// --no-save compares with the last stored snapshot and stores nothing:
	// running it twice shows the same since-time.
	_, out1, _ := runIn(cache, "inventory", "--changes", "--format", "json", "--no-save")
	_, out2, _ := runIn(cache, "inventory", "--changes", "--format", "json", "--no-save")
	var c1, c2 runtime.ChangesReport
	json.Unmarshal([]byte(out1), &c1)
	json.Unmarshal([]byte(out2), &c2)
	if c1.Changes.Since.IsZero() || !c1.Changes.Since.Equal(c2.Changes.Since) {
		t.Errorf("--no-save stored a snapshot: since %v then %v", c1.Changes.Since, c2.Changes.Since)
	}
}

// TestInventoryWithoutDocker: no daemon → partial, /proc results, warning
// on stderr, exit 0; no daemon and no /proc → exit 2 with what to do.
func TestInventoryWithoutDocker(t *testing.T) {
	proc := t.TempDir()
	pid := filepath.Join(proc, "200")
	os.MkdirAll(filepath.Join(pid, "ns"), 0o755)
	os.Symlink("mnt:[4026532001]", filepath.Join(pid, "ns", "mnt"))
	os.WriteFile(filepath.Join(pid, "cgroup"), []byte("0::/lxc.payload.web01\n"), 0o444)
	os.WriteFile(filepath.Join(pid, "mountinfo"), []byte("512 480 8:1 /var/lib/lxc/web01/rootfs / rw - ext4 /dev/sda1 rw\n"), 0o444)
	nosock := "unix://" + filepath.Join(t.TempDir(), "none.sock")

	out := filepath.Join(t.TempDir(), "inv.json")
	code, _, errOut := runIn(t.TempDir(), "inventory", "--docker-host", nosock, "--proc-root", proc, "--format", "json", "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := inventoryDoc(t, string(data))
	if !doc.Partial || len(doc.Containers) != 1 || doc.Containers[0].ID != "web01" || !doc.Containers[0].Unmanaged {
		t.Errorf("partial=%v containers=%+v", doc.Partial, doc.Containers)
	}
	if !strings.Contains(errOut, "cannot reach the Docker Engine") {
		t.Errorf("stderr does not explain: %s", errOut)
	}

	code, _, errOut = runIn(t.TempDir(), "inventory", "--docker-host", nosock, "--proc-root", filepath.Join(proc, "nope"))
	if code != ExitError || !strings.Contains(errOut, "no inventory source could be read") || !strings.Contains(errOut, "--docker-host") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = runIn(t.TempDir(), "inventory", "--format", "yaml")
	if code != ExitError || !strings.Contains(errOut, "table, json, jsonl or syslog") {
		t.Errorf("bad format: exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = runIn(t.TempDir(), "inventory", "--docker-host", nosock, "--proc-root", proc, "--store", "postgres://u:pw0rd@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if code != ExitError || !strings.Contains(errOut, "--no-save") || strings.Contains(errOut, "pw0rd") {
		t.Errorf("unreachable store: exit %d, stderr %s", code, errOut)
	}
}

// TestInventoryPostgres stores snapshots in PostgreSQL through --store.
func TestInventoryPostgres(t *testing.T) {
	dsn := os.Getenv("BULKHEAD_TEST_POSTGRES")
	if dsn == "" {
		msg := "BULKHEAD_TEST_POSTGRES is not set (run scripts/start-postgres.sh)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "cli_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("PostgreSQL at BULKHEAD_TEST_POSTGRES: %v", err)
	}
	defer admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	store := dsn + sep + "search_path=" + schema

	proc := t.TempDir()
	mk := func(name string) {
		pid := filepath.Join(proc, fmt.Sprint(len(name)*100))
		os.MkdirAll(filepath.Join(pid, "ns"), 0o755)
		os.Symlink("mnt:[4026532001]", filepath.Join(pid, "ns", "mnt"))
		os.WriteFile(filepath.Join(pid, "cgroup"), []byte("0::/lxc.payload."+name+"\n"), 0o444)
		os.WriteFile(filepath.Join(pid, "mountinfo"), []byte("512 480 8:1 /var/lib/lxc/"+name+"/rootfs / rw - ext4 /dev/sda1 rw\n"), 0o444)
	}
	mk("one")
	args := []string{"inventory", "--no-docker", "--proc-root", proc, "--store", store, "--format", "json"}
	if code, _, errOut := runIn(t.TempDir(), args...); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mk("three")
	code, out, errOut := runIn(t.TempDir(), args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	doc := inventoryDoc(t, out)
	if !slices.Equal(refIDs(doc.Changes.Added), []string{"three"}) {
		t.Errorf("added = %+v", doc.Changes.Added)
	}
	var n int
	if err := admin.QueryRow(`SELECT COUNT(*) FROM ` + schema + `.snapshots`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d snapshots in PostgreSQL, %v; want 2", n, err)
	}
}

// TestInventoryTableGolden renders a fixed inventory with changes.
func TestInventoryTableGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	prev := &runtime.Snapshot{Host: "node1", Time: t0.Add(-time.Hour), Containers: []runtime.Container{
		{ID: id('a'), Name: "shop-web-1", Runtime: "docker", Image: "nginx:1.27", State: "running", User: "101",
			Ports:    []runtime.Port{{HostIP: "0.0.0.0", HostPort: "8080", ContainerPort: "80", Protocol: "tcp"}},
			Security: &runtime.Security{NetworkMode: "bridge"}},
		{ID: id('b'), Name: "old-job", Runtime: "docker", Image: "busybox", State: "exited"},
	}}
	cur := &runtime.Snapshot{Host: "node1", Time: t0, Partial: true, Warnings: []string{"1 of 300 /proc entries could not be read"},
		Docker: &runtime.Engine{Host: "unix:///var/run/docker.sock", Version: "20.10.24"},
		Containers: []runtime.Container{
			{ID: id('c'), Name: "shop-web-1", Runtime: "docker", Image: "nginx:1.28", State: "running", User: "root", ComposeProject: "shop",
				Ports: []runtime.Port{
					{HostIP: "0.0.0.0", HostPort: "8080", ContainerPort: "80", Protocol: "tcp"},
					{HostIP: "0.0.0.0", HostPort: "2222", ContainerPort: "22", Protocol: "tcp"}},
				Security: &runtime.Security{NetworkMode: "bridge", Privileged: true, CapAdd: []string{"CAP_SYS_ADMIN"}}, PIDs: []int{4100, 4101, 4102, 4107}},
			{ID: "bhtest1", Name: "bhtest1", Runtime: "runc", State: "running", Unmanaged: true, PIDs: []int{22062},
				RootFS: &runtime.RootFS{FSType: "ext4", Source: "/dev/vda", Root: "/tmp/rtest/rootfs"}},
			{ID: id('d'), Name: "api-0", Runtime: "docker", Image: "api:2", State: "created", PodName: "api-0", PodNamespace: "prod"},
		},
		Images: []runtime.Image{{ID: "sha256:" + id('e'), RepoTags: []string{"nginx:1.28"}, Size: 187_000_000, Created: t0.Add(-48 * time.Hour), Containers: 1}},
	}
	ch := runtime.Diff(prev, cur)
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"summary", func(b *bytes.Buffer) error { return writeInventoryTable(b, cur, ch) }},
		{"changes", func(b *bytes.Buffer) error { return writeChangesTable(b, cur, ch) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "inventory", tc.name+".golden")
			if *updateInventory {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-inventory)", err)
			}
			if b.String() != string(want) {
				t.Errorf("table differs from %s:\n--- got\n%s--- want\n%s", golden, b.String(), want)
			}
		})
	}
}
