package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// binAnalyzer reports every file under /usr/bin as a package named after
// its content, and counts how often it read something.
type binAnalyzer struct{ reads int }

func (*binAnalyzer) Name() string { return "test/bin" }
func (*binAnalyzer) Version() int { return 1 }
func (*binAnalyzer) Required(p string, _ fs.FileInfo) bool {
	return strings.HasPrefix(p, "/usr/bin/") || strings.HasPrefix(p, "/opt/")
}
func (b *binAnalyzer) Analyze(_ context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b.reads++
	c, err := io.ReadAll(in.Content)
	if err != nil {
		return nil, err
	}
	return &analyzer.Result{Packages: []inventory.Package{{Name: string(c), Version: "1", Type: "test", Locations: []inventory.Location{{Path: in.Path}}}}}, nil
}

func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = h.Uname // the content, carried in an unused field
			h.Size = int64(len(body))
			h.Uname = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	return buf.Bytes()
}

func TestHardlinks(t *testing.T) {
	raw := tarOf(t,
		&tar.Header{Name: "usr/bin/perl", Typeflag: tar.TypeReg, Mode: 0o755, Uname: "perl-binary"},
		&tar.Header{Name: "usr/bin/perl5.36.0", Typeflag: tar.TypeLink, Linkname: "usr/bin/perl"},
		// A link whose target the analyzer did not look at: read again.
		&tar.Header{Name: "lib/hidden", Typeflag: tar.TypeReg, Mode: 0o755, Uname: "hidden-binary"},
		&tar.Header{Name: "opt/exposed", Typeflag: tar.TypeLink, Linkname: "lib/hidden"},
	)
	a := &binAnalyzer{}
	g, _ := analyzer.NewGroup(a)
	fa := &fileAnalyzer{group: g, tempDir: t.TempDir()}
	opens := 0
	lr, _, err := fa.analyzeLayer(context.Background(), func() (io.ReadCloser, error) {
		opens++
		return io.NopCloser(bytes.NewReader(raw)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fr := range lr.Files {
		for _, p := range fr.Result.Packages {
			got = append(got, fr.Path+" "+p.Name+" "+p.Locations[0].Path)
		}
	}
	sort.Strings(got)
	want := []string{
		"/opt/exposed hidden-binary /opt/exposed",
		"/usr/bin/perl perl-binary /usr/bin/perl",
		"/usr/bin/perl5.36.0 perl-binary /usr/bin/perl5.36.0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// perl5.36.0 reuses perl's result; only /opt/exposed needs the second
	// read.
	if a.reads != 2 || opens != 2 {
		t.Errorf("analyzer read %d files over %d opens of the layer, want 2 and 2", a.reads, opens)
	}
}
