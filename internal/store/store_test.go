package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/runtime"
)

// postgresEnv names the DSN of a PostgreSQL the tests may use
// (scripts/start-postgres.sh prints one).
const postgresEnv = "BULKHEAD_TEST_POSTGRES"

// backend opens a fresh, empty store.
type backend struct {
	name string
	open func(t testing.TB) Store
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) Store {
			s, err := Open(context.Background(), filepath.Join(t.TempDir(), "inv.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", openPostgres},
	}
}

// openPostgres opens a store in a schema of its own, dropped at the end, so
// tests never see each other's rows. Without a reachable server the test
// skips, or fails when CI=true.
func openPostgres(t testing.TB) Store {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	missing := func(why string) {
		msg := fmt.Sprintf("PostgreSQL store tests need %s (run scripts/start-postgres.sh): %s", postgresEnv, why)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if dsn == "" {
		missing("not set")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		missing(err.Error())
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		missing(err.Error())
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := Open(context.Background(), dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Backend() != "postgres" {
		t.Fatalf("backend = %q, want postgres", s.Backend())
	}
	return s
}

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func snap(host string, at time.Time, cs ...runtime.Container) *runtime.Snapshot {
	return &runtime.Snapshot{
		Host: host, Time: at, Warnings: []string{}, Containers: cs,
		Images: []runtime.Image{{ID: "sha256:" + hex64('e'), RepoTags: []string{"demo:1"}, Size: 1234, Created: at.Add(-time.Hour), Containers: 1}},
	}
}

func web(id string, port string, priv bool) runtime.Container {
	return runtime.Container{
		ID: id, Name: "web", Runtime: runtime.RuntimeDocker, Sources: []string{runtime.SourceAPI},
		Image: "demo:1", ImageID: "sha256:" + hex64('e'), State: "running",
		Ports:    []runtime.Port{{HostIP: "0.0.0.0", HostPort: port, ContainerPort: "80", Protocol: "tcp"}},
		Security: &runtime.Security{Privileged: priv, NetworkMode: "bridge"},
		Labels:   map[string]string{"com.docker.compose.project": "shop"}, ComposeProject: "shop",
	}
}

func stray() runtime.Container {
	return runtime.Container{ID: "bhstray", Name: "bhstray", Runtime: runtime.RuntimeRunc, Sources: []string{runtime.SourceProc},
		Unmanaged: true, State: "running", PIDs: []int{4242},
		RootFS: &runtime.RootFS{FSType: "ext4", Source: "/dev/vda", Root: "/tmp/b/rootfs"}}
}

// TestStore runs the same cases against every backend.
func TestStore(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC)
	cases := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"round trip", func(t *testing.T, s Store) {
			in := snap("h1", t0, web(hex64('a'), "8080", false), stray())
			in.Partial = true
			in.Warnings = []string{"Docker Engine at unix:///x did not answer"}
			in.Proc = &runtime.ProcStats{Root: "/proc", Processes: 10, Contained: 1, Unreadable: 2}
			id, err := s.SaveSnapshot(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Snapshot(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			// Stored containers come back ordered by name.
			want := *in
			want.Containers = []runtime.Container{stray(), web(hex64('a'), "8080", false)}
			if d := cmp.Diff(&want, got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		}},
		{"latest two, per host, newest first", func(t *testing.T, s Store) {
			ctx := context.Background()
			for i, h := range []string{"h1", "h2", "h1", "h1"} {
				if _, err := s.SaveSnapshot(ctx, snap(h, t0.Add(time.Duration(i)*time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.LatestSnapshots(ctx, "h1", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !got[0].Time.Equal(t0.Add(3*time.Minute)) || !got[1].Time.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("latest = %v", times(got))
			}
			list, err := s.ListSnapshots(ctx, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 4 || list[0].Host != "h1" || list[1].Host != "h1" || list[2].Host != "h2" || list[0].Images != 1 {
				t.Fatalf("list = %+v", list)
			}
		}},
		{"changes between the latest two", func(t *testing.T, s Store) {
			ctx := context.Background()
			if _, err := s.SaveSnapshot(ctx, snap("h1", t0, web(hex64('a'), "8080", false))); err != nil {
				t.Fatal(err)
			}
			ch, err := LatestChanges(ctx, s, "h1")
			if err != nil {
				t.Fatal(err)
			}
			if !ch.Empty() || !ch.Since.IsZero() {
				t.Fatalf("first snapshot: changes %+v, want none", ch)
			}
			// Recreated with a new port and privileged; a stray appears.
			if _, err := s.SaveSnapshot(ctx, snap("h1", t0.Add(time.Minute), web(hex64('b'), "9090", true), stray())); err != nil {
				t.Fatal(err)
			}
			ch, err = LatestChanges(ctx, s, "h1")
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Added) != 1 || ch.Added[0].ID != "bhstray" || !ch.Added[0].Unmanaged {
				t.Errorf("added = %+v", ch.Added)
			}
			if len(ch.Changed) != 1 || ch.Changed[0].PreviousID != hex64('a') {
				t.Fatalf("changed = %+v", ch.Changed)
			}
			fields := map[string]runtime.FieldChange{}
			for _, f := range ch.Changed[0].Fields {
				fields[f.Field] = f
			}
			if f := fields["ports"]; cmp.Diff([]string{"0.0.0.0:9090->80/tcp"}, f.Added) != "" || cmp.Diff([]string{"0.0.0.0:8080->80/tcp"}, f.Removed) != "" || !f.Privilege {
				t.Errorf("ports change = %+v", f)
			}
			if f := fields["security.privileged"]; f.Before != "false" || f.After != "true" || !f.Privilege {
				t.Errorf("privileged change = %+v", f)
			}
			if !ch.Since.Equal(t0) {
				t.Errorf("since = %v, want %v", ch.Since, t0)
			}
		}},
		{"prune keeps the newest", func(t *testing.T, s Store) {
			ctx := context.Background()
			for i := range 5 {
				if _, err := s.SaveSnapshot(ctx, snap("h1", t0.Add(time.Duration(i)*time.Minute), web(hex64('a'), "80", false))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.SaveSnapshot(ctx, snap("h2", t0)); err != nil {
				t.Fatal(err)
			}
			n, err := s.Prune(ctx, "h1", 2)
			if err != nil || n != 3 {
				t.Fatalf("prune = %d, %v; want 3", n, err)
			}
			list, _ := s.ListSnapshots(ctx, "", 10)
			if len(list) != 3 {
				t.Fatalf("after prune %d snapshots, want 3 (2 of h1, 1 of h2)", len(list))
			}
		}},
		{"missing snapshot", func(t *testing.T, s Store) {
			_, err := s.Snapshot(context.Background(), 999999)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		}},
		{"duplicate ids in one snapshot are stored once", func(t *testing.T, s Store) {
			id, err := s.SaveSnapshot(context.Background(), snap("h1", t0, stray(), stray()))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := s.Snapshot(context.Background(), id)
			if len(got.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(got.Containers))
			}
		}},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, b.open(t))
				})
			}
		})
	}
}

func times(s []*runtime.Snapshot) []time.Time {
	var out []time.Time
	for _, x := range s {
		out = append(out, x.Time)
	}
	return out
}

// TestMigrateTwice opens the same SQLite file twice: the second open finds
// the schema current and changes nothing.
func TestMigrateTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "inv.db")
	for range 2 {
		s, err := Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != SchemaVersion {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, SchemaVersion)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ := sql.Open("sqlite", path)
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "upgrade bulkhead") {
		t.Fatalf("err = %v, want a newer-schema refusal", err)
	}
}

func TestRedact(t *testing.T) {
	got := redact("postgres://bob:hunter2@db:5432/x?sslmode=disable")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "bob") {
		t.Fatalf("redact = %q", got)
	}
}

func TestUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error prints the password: %v", err)
	}
}
