package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultMirror is osv.dev's public export bucket.
const DefaultMirror = "https://osv-vulnerabilities.storage.googleapis.com"

// UpdateOptions configure Update. Zero fields take defaults.
type UpdateOptions struct {
	// Mirror is the base URL of the exports, <Mirror>/<Ecosystem>/all.zip
	// (default DefaultMirror). A file:// URL reads a local copy of that
	// layout.
	Mirror string
	// Ecosystems to fetch (default DefaultEcosystems()).
	Ecosystems []string
	// HTTPClient makes the requests (default: proxy from the environment,
	// connect and TLS timeouts). Its own Timeout, if any, caps a whole
	// download: leave it zero and use Timeout below.
	HTTPClient *http.Client
	// Retries is how many times a failed download is tried again (default
	// 4; negative for none). Waits double from Backoff, at most 30 s.
	Retries int
	// Backoff is the wait before the first retry (default 1 s).
	Backoff time.Duration
	// Timeout aborts a request that sends nothing for this long: no
	// response headers, or a stalled body (default 60 s). A slow but
	// moving download is never cut off.
	Timeout time.Duration
	// Progress receives one line per download and import step; nil for
	// none.
	Progress io.Writer
	// Limits bound hostile input; zero fields take DefaultLimits.
	Limits Limits

	now func() time.Time // tests
}

// DownloadError is a download that failed after its retries. Its message
// names `bulkhead db import` as the way to load the exports by hand.
type DownloadError struct {
	URL      string
	Attempts int
	Err      error
}

func (e *DownloadError) Error() string {
	hint := "to load the data another way, fetch <mirror>/<Ecosystem>/all.zip elsewhere " +
		"and run `bulkhead db import PATH`"
	var nerr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(e.Err, &dnsErr) || errors.As(e.Err, &opErr) || (errors.As(e.Err, &nerr) && nerr.Timeout()) {
		hint = "are you offline? On an air-gapped machine, copy the exports (<mirror>/<Ecosystem>/all.zip) " +
			"from a connected one and run `bulkhead db import PATH`"
	}
	return fmt.Sprintf("downloading %s failed after %d attempt(s): %v: %s", e.URL, e.Attempts, e.Err, hint)
}

func (e *DownloadError) Unwrap() error { return e.Err }

// Update downloads osv.dev's exports of the chosen ecosystems and builds a
// new DB from the current one plus them. Advisories an export no longer
// contains are removed if they came from that export. Downloads are
// verified (every member's CRC) before anything is imported, resumed where
// the server allows, and retried with backoff; if any ecosystem fails,
// nothing changes.
func Update(ctx context.Context, cacheDir string, opts UpdateOptions) (*ImportStats, error) {
	start := time.Now()
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dlDir := filepath.Join(cacheDir, "db", "downloads")
	if err := os.MkdirAll(dlDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the download directory: %w", err)
	}
	lim := o.Limits.withDefaults()
	d := &downloader{client: o.HTTPClient, retries: o.Retries, backoff: o.Backoff, timeout: o.Timeout, progress: o.Progress, lim: lim}

	// Fetch and verify everything first: a failure leaves the DB alone.
	type export struct{ eco, url, path string }
	var exports []export
	var downloaded int64
	for _, eco := range o.Ecosystems {
		u := o.Mirror + "/" + url.PathEscape(eco) + "/all.zip"
		if p, ok := localMirrorPath(o.Mirror, eco); ok {
			if err := verifyZipFile(ctx, p, lim); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			exports = append(exports, export{eco, u, p})
			continue
		}
		dest := filepath.Join(dlDir, fileSafe(eco)+".zip")
		n, err := d.fetch(ctx, u, dest)
		if err != nil {
			return nil, err
		}
		downloaded += n
		exports = append(exports, export{eco, u, dest})
	}

	b, err := newBuilder(ctx, cacheDir, o.now(), o.Progress)
	if err != nil {
		return nil, err
	}
	st := &ImportStats{Path: b.final, Ecosystems: map[string]int{}, Note: b.note, Downloaded: downloaded}
	imp := &importer{b: b, lim: lim, stats: st, progress: o.Progress}
	for _, e := range exports {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "importing %s\n", e.eco)
		}
		if err := imp.run(ctx, zipFeeder(e.path, e.url, lim), "update:"+e.eco, true); err != nil {
			b.abort()
			return nil, err
		}
	}
	for _, e := range exports {
		n, err := b.removeUnseen(ctx, "update:"+e.eco)
		if err != nil {
			b.abort()
			return nil, err
		}
		st.Removed += n
		if err := b.touch(ctx, e.eco, e.url); err != nil {
			b.abort()
			return nil, err
		}
	}
	if err := b.finish(ctx); err != nil {
		return nil, err
	}
	for _, e := range exports {
		if strings.HasPrefix(e.path, dlDir) {
			os.Remove(e.path)
		}
	}
	st.Duration = time.Since(start)
	return st, nil
}

func (o UpdateOptions) withDefaults() (UpdateOptions, error) {
	if o.Mirror == "" {
		o.Mirror = DefaultMirror
	}
	o.Mirror = strings.TrimRight(o.Mirror, "/")
	mu, err := url.Parse(o.Mirror)
	if err != nil || (mu.Scheme != "http" && mu.Scheme != "https" && mu.Scheme != "file") {
		return o, fmt.Errorf("mirror %q: want an http(s):// or file:// URL", o.Mirror)
	}
	if len(o.Ecosystems) == 0 {
		o.Ecosystems = DefaultEcosystems()
	}
	seen := map[string]bool{}
	var ecos []string
	for _, e := range o.Ecosystems {
		e = canonicalEcosystem(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		if strings.ContainsAny(e, "/\\") || e == "." || e == ".." || checkField("ecosystem", e) != nil {
			return o, fmt.Errorf("ecosystem %q: not an OSV ecosystem name (see %s/ecosystems.txt)", e, DefaultMirror)
		}
		seen[e] = true
		ecos = append(ecos, e)
	}
	o.Ecosystems = ecos
	if o.HTTPClient == nil {
		o.HTTPClient = defaultClient()
	}
	switch {
	case o.Retries == 0:
		o.Retries = 4
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}

// knownEcosystems are osv.dev export names, for fixing the case of what a
// user typed ("pypi" → "PyPI"). Names not listed are passed on as given.
var knownEcosystems = append(DefaultEcosystems(),
	"Android", "Bitnami", "CRAN", "GHC", "GIT", "GSD", "GitHub Actions", "Hackage", "Hex",
	"Linux", "Mageia", "OSS-Fuzz", "Photon OS", "Pub", "SUSE", "SwiftURL", "UVI", "openSUSE", "openEuler")

func canonicalEcosystem(e string) string {
	for _, k := range knownEcosystems {
		if strings.EqualFold(k, e) {
			return k
		}
	}
	return e
}

// fileSafe turns an ecosystem into a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// localMirrorPath maps a file:// mirror to the export's path.
func localMirrorPath(mirror, eco string) (string, bool) {
	u, err := url.Parse(mirror)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	return filepath.Join(filepath.FromSlash(u.Path), eco, "all.zip"), true
}

// zipFeeder emits the records of a verified export; label (its URL) names
// it in warnings and as the ecosystems' source.
func zipFeeder(path, label string, lim Limits) feeder {
	return func(ctx context.Context, emit emitFunc) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		z, err := openZip(f, fi.Size())
		if err == nil {
			err = walkZip(ctx, z, label, label, fi.Size(), lim, emit)
		}
		if errors.Is(err, errCorrupt) {
			return fmt.Errorf("%s (downloaded to %s): %w", label, path, err)
		}
		return err
	}
}

func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 30 * time.Second
	// Resuming needs the bytes as stored: no transparent gzip.
	t.DisableCompression = true
	return &http.Client{Transport: t}
}

// downloader fetches one URL into a file with resume, retries and a stall
// timeout.
type downloader struct {
	client   *http.Client
	retries  int
	backoff  time.Duration
	timeout  time.Duration
	progress io.Writer
	lim      Limits
}

// partState is saved next to a partial download so a later attempt (or a
// later run) can resume it if the server still has the same file.
type partState struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// retryable is a failed attempt worth repeating; wait, when set, is what
// the server asked for (Retry-After).
type retryable struct {
	err  error
	wait time.Duration
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// fetch downloads u to dest, verifies it is a sound zip and returns the
// bytes transferred.
func (d *downloader) fetch(ctx context.Context, u, dest string) (int64, error) {
	var total int64
	var last error
	attempts := 0
	for attempt := 0; attempt <= d.retries; attempt++ {
		if attempt > 0 {
			wait := d.backoff << (attempt - 1)
			wait = min(wait, 30*time.Second)
			wait += time.Duration(rand.Int64N(int64(wait)/5 + 1)) // jitter
			var r *retryable
			if errors.As(last, &r) && r.wait > wait {
				wait = min(r.wait, 2*time.Minute)
			}
			if d.progress != nil {
				fmt.Fprintf(d.progress, "  retrying in %s: %v\n", wait.Round(time.Millisecond), last)
			}
			select {
			case <-ctx.Done():
				return total, fmt.Errorf("downloading %s: %w", u, ctx.Err())
			case <-time.After(wait):
			}
		}
		attempts++
		n, err := d.attempt(ctx, u, dest)
		total += n
		if err == nil {
			err = verifyZipFile(ctx, dest, d.lim)
			if err == nil {
				return total, nil
			}
			os.Remove(dest)
			if errors.Is(err, errCorrupt) {
				err = &retryable{err: fmt.Errorf("the download is damaged: %w", err)}
			}
		}
		if ctx.Err() != nil {
			return total, fmt.Errorf("downloading %s: %w", u, ctx.Err())
		}
		last = err
		var r *retryable
		if !errors.As(err, &r) {
			break
		}
	}
	var r *retryable
	if errors.As(last, &r) {
		last = r.err
	}
	return total, &DownloadError{URL: u, Attempts: attempts, Err: last}
}

// attempt makes one request, resuming dest+".part" when it can. On success
// the complete file is at dest.
func (d *downloader) attempt(ctx context.Context, u, dest string) (int64, error) {
	part, statePath := dest+".part", dest+".part.json"
	var state partState
	var offset int64
	if b, err := os.ReadFile(statePath); err == nil && json.Unmarshal(b, &state) == nil && state.URL == u &&
		(state.ETag != "" || state.LastModified != "") {
		if fi, err := os.Stat(part); err == nil {
			offset = fi.Size()
		}
	}
	if offset == 0 {
		os.Remove(part)
		os.Remove(statePath)
		state = partState{URL: u}
	}

	// One watchdog covers connecting, waiting for headers and every read
	// of the body: whenever nothing moves for d.timeout, the request is
	// cancelled.
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data for %s (server hanging?)", d.timeout)
	watchdog := time.AfterFunc(d.timeout, func() { cancel(stalled) })
	defer watchdog.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("mirror URL %s: %w", u, err)
	}
	req.Header.Set("User-Agent", "bulkhead (vulnerability DB update)")
	// Resuming needs byte offsets of the file as stored; asking for
	// identity also stops net/http from decompressing transparently with
	// a caller's client.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		if state.ETag != "" {
			req.Header.Set("If-Range", state.ETag)
		} else {
			req.Header.Set("If-Range", state.LastModified)
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if cause := context.Cause(actx); cause == stalled {
			err = stalled
		}
		return 0, &retryable{err: err}
	}
	defer resp.Body.Close()

	flags := os.O_CREATE | os.O_WRONLY
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			os.Remove(part)
			os.Remove(statePath)
			return 0, &retryable{err: fmt.Errorf("server resumed at %q, asked for byte %d", resp.Header.Get("Content-Range"), offset)}
		}
		flags |= os.O_APPEND
		if d.progress != nil {
			fmt.Fprintf(d.progress, "resuming %s at %d bytes\n", u, offset)
		}
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		offset = 0
		state.ETag, state.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if b, err := json.Marshal(state); err == nil {
			os.WriteFile(statePath, b, 0o644)
		}
		if d.progress != nil {
			size := ""
			if resp.ContentLength > 0 {
				size = fmt.Sprintf(" (%.1f MB)", float64(resp.ContentLength)/1e6)
			}
			fmt.Fprintf(d.progress, "downloading %s%s\n", u, size)
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part)
		os.Remove(statePath)
		return 0, &retryable{err: fmt.Errorf("server refused to resume: %s", resp.Status)}
	case resp.StatusCode == http.StatusNotFound:
		return 0, fmt.Errorf("the mirror has no such export (%s): check the ecosystem name (list: %s/ecosystems.txt) and --mirror",
			resp.Status, DefaultMirror)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return 0, &retryable{err: fmt.Errorf("server answered %s", resp.Status), wait: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		return 0, fmt.Errorf("server answered %s", resp.Status)
	}

	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return 0, fmt.Errorf("saving the download: %w", err)
	}
	n, err := io.CopyBuffer(f, &watchedReader{r: resp.Body, watchdog: watchdog, timeout: d.timeout}, make([]byte, 256<<10))
	if cerr := f.Close(); err == nil && cerr != nil {
		return n, fmt.Errorf("saving the download: %w (is the disk full?)", cerr)
	}
	if err != nil {
		if cause := context.Cause(actx); cause == stalled {
			err = stalled
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return n, fmt.Errorf("saving the download: %w (is the disk full?)", err)
		}
		return n, &retryable{err: fmt.Errorf("download cut short after %d bytes: %w", offset+n, err)}
	}
	// A body shorter than its Content-Length is reported by net/http as
	// io.ErrUnexpectedEOF above; check the total anyway for chunked
	// responses of a resumed file.
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, &retryable{err: fmt.Errorf("download cut short: %d of %d bytes", n, resp.ContentLength)}
	}
	if err := os.Rename(part, dest); err != nil {
		return n, fmt.Errorf("saving the download: %w", err)
	}
	os.Remove(statePath)
	return n, nil
}

// watchedReader pushes the watchdog back on every read that makes
// progress.
type watchedReader struct {
	r        io.Reader
	watchdog *time.Timer
	timeout  time.Duration
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.watchdog.Reset(w.timeout)
	}
	return n, err
}

// contentRangeStart parses "bytes START-END/TOTAL".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// retryAfter parses a Retry-After header in seconds or as a date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return time.Until(t)
	}
	return 0
}

// verifyZipFile reads every member of the zip at path through its CRC-32
// check, under the import limits.
func verifyZipFile(ctx context.Context, path string, lim Limits) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	z, err := openZip(f, fi.Size())
	if err != nil {
		return err
	}
	return walkZip(ctx, z, path, path, fi.Size(), lim, func(string, string, []byte, error) error { return nil })
}
