package vulndb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// mirror serves <Ecosystem>/all.zip files like osv.dev's bucket, with
// ETag and Range support (http.ServeContent), and can misbehave on chosen
// requests.
type mirror struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte // URL path → contents
	requests []string          // "path range"
	// fault, when set, may handle request number n (from 1) of a path
	// itself and return true.
	fault func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newMirror(t *testing.T, files map[string][]byte) *mirror {
	m := &mirror{files: files}
	m.Server = httptest.NewServer(m)
	t.Cleanup(m.Close)
	return m
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, strings.TrimSpace(r.URL.Path+" "+r.Header.Get("Range")))
	n := 0
	for _, req := range m.requests {
		if strings.HasPrefix(req, r.URL.Path) {
			n++
		}
	}
	data, ok := m.files[r.URL.Path]
	fault := m.fault
	m.mu.Unlock()
	if fault != nil && fault(w, r, n) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sum[:8]))
	http.ServeContent(w, r, "all.zip", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(data))
}

func (m *mirror) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// cutAfter promises the whole file, sends k bytes and drops the
// connection.
func cutAfter(w http.ResponseWriter, data []byte, k int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data[:k])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// exportBytes is an osv.dev export of advs.
func exportBytes(t *testing.T, advs ...adv) []byte {
	b, err := os.ReadFile(exportZip(t, filepath.Join(t.TempDir(), "all.zip"), advs...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bigExport is an npm export large enough to be cut in the middle.
func bigExport(t *testing.T) ([]byte, []adv) {
	var advs []adv
	for i := range 300 {
		advs = append(advs, adv{id: fmt.Sprintf("GHSA-%04d", i), pkgs: []string{fmt.Sprintf("npm/p%d", i%50)},
			summary: strings.Repeat(fmt.Sprintf("advisory %d ", i), 20)})
	}
	return exportBytes(t, advs...), advs
}

func testUpdate(ctx context.Context, cacheDir string, m *mirror, ecos []string, mod func(*UpdateOptions)) (*ImportStats, error) {
	o := UpdateOptions{Mirror: m.URL, Ecosystems: ecos, Retries: 3, Backoff: time.Millisecond, Timeout: 2 * time.Second,
		now: func() time.Time { return testNow }}
	if mod != nil {
		mod(&o)
	}
	return Update(ctx, cacheDir, o)
}

func TestUpdate(t *testing.T) {
	npm := exportBytes(t, adv{id: "GHSA-1", pkgs: []string{"npm/a"}}, adv{id: "GHSA-2", pkgs: []string{"npm/b"}})
	pypi := exportBytes(t, adv{id: "PYSEC-1", pkgs: []string{"PyPI/Django"}})
	m := newMirror(t, map[string][]byte{"/npm/all.zip": npm, "/PyPI/all.zip": pypi})
	dir := t.TempDir()
	var progress bytes.Buffer
	st, err := testUpdate(context.Background(), dir, m, []string{"npm", "pypi"}, func(o *UpdateOptions) { o.Progress = &progress })
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 3 || st.Downloaded != int64(len(npm)+len(pypi)) {
		t.Errorf("stats = %+v, want 3 added, %d bytes downloaded", st, len(npm)+len(pypi))
	}
	if diff := cmp.Diff([]string{"/npm/all.zip", "/PyPI/all.zip"}, m.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	db := openDB(t, dir)
	if got := lookupIDs(t, db, "PyPI", "django"); !cmp.Equal(got, []string{"PYSEC-1"}) {
		t.Errorf("Lookup(PyPI, django) = %v", got)
	}
	status, err := db.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range status.Ecosystems {
		if want := m.URL + "/" + e.Name + "/all.zip"; e.Source != want || !e.FetchedAt.Equal(testNow) {
			t.Errorf("%s: source %q fetched %v, want %q at %v", e.Name, e.Source, e.FetchedAt, want, testNow)
		}
	}
	for _, want := range []string{"downloading " + m.URL + "/npm/all.zip", "importing PyPI"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress %q lacks %q", progress.String(), want)
		}
	}
	// Downloads are removed once imported.
	if ents, _ := os.ReadDir(filepath.Join(dir, "db", "downloads")); len(ents) != 0 {
		t.Errorf("downloads left: %v", ents)
	}
}

// An export that drops an advisory removes it; records imported by hand
// and other ecosystems stay.
func TestUpdateRemovesDropped(t *testing.T) {
	m := newMirror(t, map[string][]byte{
		"/npm/all.zip":  exportBytes(t, adv{id: "GHSA-1", pkgs: []string{"npm/a"}}, adv{id: "GHSA-2", pkgs: []string{"npm/a"}}),
		"/PyPI/all.zip": exportBytes(t, adv{id: "PYSEC-1", pkgs: []string{"PyPI/a"}}),
	})
	dir := t.TempDir()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm", "PyPI"}, nil); err != nil {
		t.Fatal(err)
	}
	testImport(t, dir, writeFile(t, filepath.Join(t.TempDir(), "LOCAL-1.json"), adv{id: "LOCAL-1", pkgs: []string{"npm/a"}}.json()))
	m.mu.Lock()
	m.files["/npm/all.zip"] = exportBytes(t, adv{id: "GHSA-1", pkgs: []string{"npm/a"}})
	m.mu.Unlock()
	st, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || st.Unchanged != 1 {
		t.Errorf("stats = %+v, want 1 removed, 1 unchanged", st)
	}
	db := openDB(t, dir)
	if diff := cmp.Diff([]string{"GHSA-1", "LOCAL-1"}, lookupIDs(t, db, "npm", "a")); diff != "" {
		t.Errorf("Lookup(npm, a) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PYSEC-1"}, lookupIDs(t, db, "PyPI", "a")); diff != "" {
		t.Errorf("Lookup(PyPI, a) (-want +got):\n%s", diff)
	}
	if v, _ := db.Get(context.Background(), "GHSA-2"); v != nil {
		t.Error("GHSA-2 is still stored")
	}
}

// Transient failures are retried, resumed where possible, and the update
// succeeds.
func TestUpdateRecovers(t *testing.T) {
	export, _ := bigExport(t)
	corrupt := bytes.Clone(export)
	corrupt[len(corrupt)/3] ^= 0xff
	half := len(export) / 2
	for _, tc := range []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request, n int) bool
		want  []string // requests
	}{
		{"503 twice", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n <= 2 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			}
			return false
		}, []string{"/npm/all.zip", "/npm/all.zip", "/npm/all.zip"}},
		{"429", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return true
			}
			return false
		}, []string{"/npm/all.zip", "/npm/all.zip"}},
		{"connection dropped halfway: resumed", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256Prefix(export)))
				cutAfter(w, export, half)
			}
			return false
		}, []string{"/npm/all.zip", fmt.Sprintf("/npm/all.zip bytes=%d-", half)}},
		{"damaged download: fetched again whole", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				w.Write(corrupt)
				return true
			}
			return false
		}, []string{"/npm/all.zip", "/npm/all.zip"}},
		{"hangs before answering", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				<-r.Context().Done()
				return true
			}
			return false
		}, []string{"/npm/all.zip", "/npm/all.zip"}},
		{"hangs halfway: resumed", func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				w.Header().Set("Content-Length", strconv.Itoa(len(export)))
				w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256Prefix(export)))
				w.Write(export[:half])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}
			return false
		}, []string{"/npm/all.zip", fmt.Sprintf("/npm/all.zip bytes=%d-", half)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMirror(t, map[string][]byte{"/npm/all.zip": export})
			m.fault = tc.fault
			dir := t.TempDir()
			start := time.Now()
			st, err := testUpdate(context.Background(), dir, m, []string{"npm"}, func(o *UpdateOptions) { o.Timeout = 300 * time.Millisecond })
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			t.Logf("took %v", time.Since(start))
			if st.Added != 300 {
				t.Errorf("stats = %+v, want 300 added", st)
			}
			if diff := cmp.Diff(tc.want, m.log()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func sha256Prefix(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:8]
}

// Failures that outlast the retries leave the DB as it was, with errors
// that say what to do.
func TestUpdateFails(t *testing.T) {
	export, _ := bigExport(t)
	good := exportBytes(t, adv{id: "GHSA-new", pkgs: []string{"npm/old"}})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	offline := "http://" + closed.Addr().String()
	closed.Close()
	bomb := func() []byte {
		var z rawZip
		ten := bytes.Repeat([]byte(" "), 10<<20)
		zd := deflate(t, ten)
		for i := range 50 {
			z.add(fmt.Sprintf("B-%d.json", i), methodDeflate, zd, crc32.ChecksumIEEE(ten), uint64(len(ten)))
		}
		return z.bytes()
	}()

	for _, tc := range []struct {
		name     string
		ecos     []string
		files    map[string][]byte
		fault    func(w http.ResponseWriter, r *http.Request, n int) bool
		mirror   string // instead of the test server
		want     []string
		requests int
	}{
		{name: "unknown ecosystem", ecos: []string{"npm", "Nope"},
			want: []string{"Nope/all.zip", "404", "check the ecosystem name", "bulkhead db import"}, requests: 2},
		{name: "always 503", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}, want: []string{"after 4 attempt(s)", "503", "bulkhead db import"}, requests: 4},
		{name: "403", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			http.Error(w, "no", http.StatusForbidden)
			return true
		}, want: []string{"after 1 attempt(s)", "403"}, requests: 1},
		{name: "always truncated", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			cutAfter(w, export, 100) // no ETag: nothing to resume
			return true
		}, want: []string{"cut short", "bulkhead db import"}, requests: 4},
		{name: "always damaged", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Write(export[:len(export)-30])
			return true
		}, want: []string{"damaged", "bulkhead db import"}, requests: 4},
		{name: "always hangs", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			<-r.Context().Done()
			return true
		}, want: []string{"no data for 200ms", "bulkhead db import"}, requests: 4},
		{name: "zip bomb", fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Write(bomb)
			return true
		}, want: []string{"zip bomb"}, requests: 1},
		{name: "offline", mirror: offline, want: []string{"offline", "bulkhead db import PATH", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"/npm/all.zip": export}
			m := newMirror(t, files)
			dir := t.TempDir()
			// The DB before: one old advisory.
			m.files["/npm/all.zip"] = exportBytes(t, adv{id: "GHSA-old", pkgs: []string{"npm/old"}})
			if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
				t.Fatal(err)
			}
			m.mu.Lock()
			m.files["/npm/all.zip"] = good
			m.requests = nil
			m.fault = tc.fault
			m.mu.Unlock()
			before, _ := os.ReadFile(Path(dir))
			ecos := tc.ecos
			if ecos == nil {
				ecos = []string{"npm"}
			}
			start := time.Now()
			_, err := testUpdate(context.Background(), dir, m, ecos, func(o *UpdateOptions) {
				o.Timeout = 200 * time.Millisecond
				if tc.mirror != "" {
					o.Mirror = tc.mirror
				}
			})
			t.Logf("failed after %v: %v", time.Since(start), err)
			if err == nil {
				t.Fatal("Update succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q", w)
				}
			}
			if tc.mirror == "" && len(m.log()) != tc.requests {
				t.Errorf("requests = %v, want %d", m.log(), tc.requests)
			}
			after, _ := os.ReadFile(Path(dir))
			if !bytes.Equal(before, after) {
				t.Error("a failed update changed the DB")
			}
			if got := lookupIDs(t, openDB(t, dir), "npm", "old"); !cmp.Equal(got, []string{"GHSA-old"}) {
				t.Errorf("Lookup after a failed update = %v", got)
			}
			for _, f := range dbFiles(t, dir) {
				if strings.HasPrefix(f, tempPrefix) {
					t.Errorf("half-built DB left behind: %s", f)
				}
			}
		})
	}
}

// A download that fails for good keeps its partial file; the next update
// resumes it.
func TestUpdateResumesNextRun(t *testing.T) {
	export, _ := bigExport(t)
	half := len(export) / 2
	m := newMirror(t, map[string][]byte{"/npm/all.zip": export})
	m.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256Prefix(export)))
			cutAfter(w, export, half)
		}
		return false
	}
	dir := t.TempDir()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, func(o *UpdateOptions) { o.Retries = -1 }); err == nil {
		t.Fatal("first update succeeded")
	}
	if fi, err := os.Stat(filepath.Join(dir, "db", "downloads", "npm.zip.part")); err != nil || fi.Size() != int64(half) {
		t.Fatalf("partial download: %v, %v; want %d bytes", fi, err, half)
	}
	st, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Downloaded != int64(len(export)-half) {
		t.Errorf("second run downloaded %d bytes, want the missing %d", st.Downloaded, len(export)-half)
	}
	if diff := cmp.Diff([]string{"/npm/all.zip", fmt.Sprintf("/npm/all.zip bytes=%d-", half)}, m.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// The file changed on the server since: If-Range makes it start over.
	m.mu.Lock()
	m.requests = nil
	m.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("ETag", `"old"`)
			cutAfter(w, export, half)
		}
		return false
	}
	m.mu.Unlock()
	testUpdate(context.Background(), dir, m, []string{"npm"}, func(o *UpdateOptions) { o.Retries = -1 })
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/npm/all.zip", fmt.Sprintf("/npm/all.zip bytes=%d-", half)}, m.log()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// Cancelling an update while it builds the new DB keeps the old one whole
// and leaves nothing half-written.
func TestUpdateInterrupted(t *testing.T) {
	export, _ := bigExport(t)
	m := newMirror(t, map[string][]byte{"/npm/all.zip": exportBytes(t, adv{id: "GHSA-old", pkgs: []string{"npm/old"}})})
	dir := t.TempDir()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.files["/npm/all.zip"] = export
	m.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := testUpdate(ctx, dir, m, []string{"npm"}, func(o *UpdateOptions) {
		o.Progress = writerFunc(func(p []byte) {
			if strings.Contains(string(p), "reading") {
				cancel() // the import has started
			}
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update = %v, want context.Canceled", err)
	}
	for _, f := range dbFiles(t, dir) {
		if strings.HasPrefix(f, tempPrefix) {
			t.Errorf("half-built DB left behind: %s", f)
		}
	}
	if got := lookupIDs(t, openDB(t, dir), "npm", "old"); !cmp.Equal(got, []string{"GHSA-old"}) {
		t.Errorf("Lookup after an interrupted update = %v", got)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}

// A DB opened before an update keeps answering from the old data; one
// opened after sees the new.
func TestUpdateWhileOpen(t *testing.T) {
	m := newMirror(t, map[string][]byte{"/npm/all.zip": exportBytes(t, adv{id: "GHSA-1", pkgs: []string{"npm/a"}})})
	dir := t.TempDir()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
		t.Fatal(err)
	}
	old := openDB(t, dir)
	m.mu.Lock()
	m.files["/npm/all.zip"] = exportBytes(t, adv{id: "GHSA-1", pkgs: []string{"npm/a"}}, adv{id: "GHSA-2", pkgs: []string{"npm/a"}, modified: "2025-01-01T00:00:00Z"})
	m.mu.Unlock()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GHSA-1"}, lookupIDs(t, old, "npm", "a")); diff != "" {
		t.Errorf("old handle (-want +got):\n%s", diff)
	}
	old.pkgs = map[pkgKey][]*osv.Vulnerability{} // drop the memo: ask SQLite again
	if diff := cmp.Diff([]string{"GHSA-1"}, lookupIDs(t, old, "npm", "a")); diff != "" {
		t.Errorf("old handle without memo (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"GHSA-1", "GHSA-2"}, lookupIDs(t, openDB(t, dir), "npm", "a")); diff != "" {
		t.Errorf("new handle (-want +got):\n%s", diff)
	}
}

// A file:// mirror reads a local copy of the bucket layout in place.
func TestUpdateFileMirror(t *testing.T) {
	sample := sampleDir(t)
	dir := t.TempDir()
	st, err := Update(context.Background(), dir, UpdateOptions{Mirror: "file://" + filepath.ToSlash(sample), Ecosystems: []string{"npm", "Go"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"npm": sampleCounts["npm"], "Go": sampleCounts["Go"]}, st.Ecosystems); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if st.Downloaded != 0 {
		t.Errorf("Downloaded = %d from a file mirror", st.Downloaded)
	}
}

func TestUpdateOptions(t *testing.T) {
	for _, tc := range []struct {
		in      UpdateOptions
		wantErr string
		ecos    []string
	}{
		{in: UpdateOptions{}, ecos: DefaultEcosystems()},
		{in: UpdateOptions{Ecosystems: []string{" pypi", "CRATES.IO", "npm", "npm", "Hex"}}, ecos: []string{"PyPI", "crates.io", "npm", "Hex"}},
		{in: UpdateOptions{Ecosystems: []string{"../etc"}}, wantErr: "not an OSV ecosystem"},
		{in: UpdateOptions{Mirror: "ftp://example.com"}, wantErr: "http(s):// or file://"},
	} {
		got, err := tc.in.withDefaults()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("withDefaults(%+v) = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.ecos, got.Ecosystems); diff != "" {
			t.Errorf("ecosystems (-want +got):\n%s", diff)
		}
	}
}

// Lookups from many goroutines, on a handle opened before and one opened
// after, while updates replace the file underneath.
func TestConcurrentLookupsDuringUpdates(t *testing.T) {
	export, advs := bigExport(t)
	m := newMirror(t, map[string][]byte{"/npm/all.zip": export})
	dir := t.TempDir()
	if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir)
	want := map[string]int{}
	for _, a := range advs {
		want[a.pkgs[0]]++
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				p := fmt.Sprintf("p%d", (i+w)%50)
				vs, err := db.Lookup(context.Background(), "npm", p)
				if err != nil || len(vs) != want["npm/"+p] {
					errs <- fmt.Errorf("Lookup(npm, %s) = %d advisories, %v; want %d", p, len(vs), err, want["npm/"+p])
					return
				}
				if i%20 == 0 {
					db.mu.Lock()
					clear(db.pkgs) // make lookups go to SQLite again
					db.mu.Unlock()
				}
			}
		}()
	}
	for range 3 {
		if _, err := testUpdate(context.Background(), dir, m, []string{"npm"}, nil); err != nil {
			t.Error(err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
