package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/vulndb"
)

// runDB runs `db ARGS...` with a fresh globals on cacheDir.
func runDB(t *testing.T, cacheDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{cacheDir: cacheDir, stdout: &out, stderr: &errb}
	cmd := newDBCmd(g)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	code = ExitOK
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else {
			code = ExitError
		}
		fmt.Fprintf(&errb, "bulkhead: %v\n", err)
	}
	return out.String(), errb.String(), code
}

// osvExport writes an all.zip of OSV records: id → "Ecosystem/name".
func osvExport(t *testing.T, path string, recs map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for id, pkg := range recs {
		eco, name, _ := strings.Cut(pkg, "/")
		w, err := zw.Create(id + ".json")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, `{"schema_version":"1.6.0","id":%q,"modified":"2024-05-01T00:00:00Z",
			"affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}`,
			id, eco, name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestDBImportAndStatus(t *testing.T) {
	cache := t.TempDir()
	src := t.TempDir()
	osvExport(t, filepath.Join(src, "npm", "all.zip"), map[string]string{"GHSA-1": "npm/left-pad", "GHSA-2": "npm/lodash"})
	osvExport(t, filepath.Join(src, "Debian", "all.zip"), map[string]string{"DSA-1": "Debian:12/openssl", "DSA-2": "Debian:11/openssl"})
	os.WriteFile(filepath.Join(src, "bad.json"), []byte(`{"id": 1}`), 0o644)

	stdout, stderr, code := runDB(t, cache, "import", src)
	if code != ExitOK {
		t.Fatalf("db import: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "4 records read (4 new, 0 updated, 0 unchanged, 0 older than stored), 1 skipped") {
		t.Errorf("import summary = %q", stdout)
	}
	if !strings.Contains(stderr, "bad.json") {
		t.Errorf("stderr does not name the skipped record:\n%s", stderr)
	}

	// Twice: nothing changes.
	stdout, _, code = runDB(t, cache, "import", src)
	if code != ExitOK || !strings.Contains(stdout, "(0 new, 0 updated, 4 unchanged") {
		t.Errorf("second import: exit %d, %q", code, stdout)
	}

	stdout, stderr, code = runDB(t, cache, "status")
	if code != ExitOK {
		t.Fatalf("db status: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"Database:    " + vulndb.Path(cache),
		"Advisories:  4 (0 withdrawn)",
		"ECOSYSTEM  ADVISORIES  RELEASES  NEWEST MODIFIED  FETCHED",
		"Debian     2           2         2024-05-01",
		filepath.Join(src, "npm", "all.zip"),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status table lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "" {
		t.Errorf("a fresh DB warned: %s", stderr)
	}

	stdout, _, code = runDB(t, cache, "status", "--format", "json")
	if code != ExitOK {
		t.Fatalf("db status --format json: exit %d", code)
	}
	var st struct {
		vulndb.Status
		Stale bool `json:"stale"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, stdout)
	}
	got := map[string]int{}
	for _, e := range st.Ecosystems {
		got[e.Name] = e.Advisories
	}
	if diff := cmp.Diff(map[string]int{"Debian": 2, "npm": 2}, got); diff != "" || st.Stale || st.SchemaVersion != vulndb.SchemaVersion {
		t.Errorf("status JSON: stale %v schema %d, advisories (-want +got):\n%s", st.Stale, st.SchemaVersion, diff)
	}
}

func TestDBStatusStale(t *testing.T) {
	cache := t.TempDir()
	dir := t.TempDir()
	osvExport(t, filepath.Join(dir, "npm", "all.zip"), map[string]string{"GHSA-1": "npm/a"})
	if _, stderr, code := runDB(t, cache, "import", dir); code != ExitOK {
		t.Fatal(stderr)
	}
	time.Sleep(10 * time.Millisecond)
	// Not quiet: the warning is what is tested.
	var out, errb bytes.Buffer
	cmd := newDBCmd(&globals{cacheDir: cache, stdout: &out, stderr: &errb})
	cmd.SetArgs([]string{"status", "--db-max-age", "1ms", "--format", "json"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "out of date") || !strings.Contains(errb.String(), "bulkhead db update") {
		t.Errorf("stderr = %q, want a stale warning naming `bulkhead db update`", errb.String())
	}
	if !strings.Contains(out.String(), `"stale": true`) {
		t.Errorf("JSON does not say stale:\n%s", out.String())
	}
}

func TestDBStatusNoDB(t *testing.T) {
	_, stderr, code := runDB(t, t.TempDir(), "status")
	if code != ExitError || !strings.Contains(stderr, "bulkhead db update") || !strings.Contains(stderr, "bulkhead db import PATH") {
		t.Errorf("exit %d, stderr %q; want %d and the commands that fix it", code, stderr, ExitError)
	}
}

func TestDBUpdate(t *testing.T) {
	npm := osvExport(t, "", map[string]string{"GHSA-1": "npm/a"})
	pypi := osvExport(t, "", map[string]string{"PYSEC-1": "PyPI/Django"})
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch r.URL.Path {
		case "/npm/all.zip":
			w.Write(npm)
		case "/PyPI/all.zip":
			w.Write(pypi)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	t.Setenv(mirrorEnv, srv.URL) // the default of --mirror
	stdout, stderr, code := runDB(t, cache, "update", "--ecosystems", "npm,pypi")
	if code != ExitOK {
		t.Fatalf("db update: exit %d\n%s", code, stderr)
	}
	if diff := cmp.Diff([]string{"/npm/all.zip", "/PyPI/all.zip"}, paths); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if !strings.Contains(stdout, "2 records read (2 new") || !strings.Contains(stdout, "downloaded") {
		t.Errorf("update summary = %q", stdout)
	}
	stdout, _, _ = runDB(t, cache, "status")
	if !strings.Contains(stdout, srv.URL+"/PyPI/all.zip") {
		t.Errorf("status does not show the source:\n%s", stdout)
	}
}

func TestDBUpdateOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, stderr, code := runDB(t, t.TempDir(), "update", "--mirror", "http://"+addr, "--ecosystems", "npm", "--retries", "0")
	if code != ExitError || !strings.Contains(stderr, "offline") || !strings.Contains(stderr, "bulkhead db import PATH") {
		t.Errorf("exit %d, stderr %q; want %d, offline and the way out", code, stderr, ExitError)
	}
}

func TestDBImportErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "requires at least 1 arg"},
		{[]string{"import", "/no/such/file.zip"}, "no such file"},
		{[]string{"status", "--format", "xml"}, "want table or json"},
		{[]string{"status", "--db-max-age", "soon"}, "want e.g. 7d"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runDB(t, t.TempDir(), tc.args...)
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, tc.want)
			}
		})
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"7d", 7 * 24 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"0", 0, false},
		{"-1d", 0, true},
		{"week", 0, true},
	} {
		got, err := parseAge(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	a := ageFlag(7 * 24 * time.Hour)
	if a.String() != "7d" {
		t.Errorf("default shown as %q", a.String())
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 21208: "21,208", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}
