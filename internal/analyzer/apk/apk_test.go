package apk

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

const dbPath = "/lib/apk/db/installed"

func TestRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/lib/apk/db/installed", true},
		{"/usr/lib/apk/db/installed", true},
		{"/lib/apk/db/installed.new", false},
		{"/lib/apk/db/scripts.tar", false},
		{"/lib/apk/db/triggers", false},
		{"/etc/apk/world", false},
		{"lib/apk/db/installed", false},
		{"/chroot/lib/apk/db/installed", false},
	}
	a := New()
	for _, tt := range tests {
		if got := a.Required(tt.path, nil); got != tt.want {
			t.Errorf("Required(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// apkPkg is the package the analyzer should report.
func apkPkg(name, version, origin string, licenses []string, maint string, size int64) inventory.Package {
	return inventory.Package{
		Name: name, Version: version, Type: "apk", Arch: "x86_64",
		Source:   &inventory.Source{Name: origin, Version: version},
		Licenses: licenses, Maintainer: maint, InstalledSize: size,
		FoundBy: "pkg/apk", Locations: []inventory.Location{{Path: dbPath}},
	}
}

func TestAnalyzeFixture(t *testing.T) {
	const (
		ncopa   = "Natanael Copa <ncopa@alpinelinux.org>"
		soeren  = "Sören Tempel <soeren+alpine@soeren-tempel.net>"
		ariadne = "Ariadne Conill <ariadne@dereferenced.org>"
	)
	gpl2 := []string{"GPL-2.0-only"}
	want := []inventory.Package{
		apkPkg("alpine-baselayout-data", "3.6.5-r0", "alpine-baselayout", gpl2, ncopa, 77824),
		apkPkg("musl", "1.2.5-r0", "musl", []string{"MIT"}, ncopa, 662528),
		apkPkg("busybox", "1.36.1-r29", "busybox", gpl2, soeren, 924365),
		apkPkg("alpine-baselayout", "3.6.5-r0", "alpine-baselayout", gpl2, ncopa, 331776),
		apkPkg("ca-certificates-bundle", "20240226-r0", "ca-certificates", []string{"MPL-2.0 AND MIT"}, ncopa, 241664),
		apkPkg("libcrypto3", "3.3.1-r3", "openssl", []string{"Apache-2.0"}, ariadne, 4452352),
		apkPkg("libssl3", "3.3.1-r3", "openssl", []string{"Apache-2.0"}, ariadne, 778240),
		apkPkg("zlib", "1.3.1-r1", "zlib", []string{"Zlib"}, ncopa, 102400),
		apkPkg("ssl_client", "1.36.1-r29", "busybox", gpl2, soeren, 14336),
		apkPkg("libc-utils", "0.7.2-r5", "libc-dev", []string{"BSD-2-Clause AND BSD-3-Clause"}, ncopa, 4096),
		apkPkg("scanelf", "1.3.7-r2", "pax-utils", gpl2, ncopa, 90112),
		apkPkg("musl-utils", "1.2.5-r0", "musl", []string{"MIT AND BSD-2-Clause AND GPL-2.0-or-later"}, ncopa, 135168),
		apkPkg("apk-tools", "2.14.4-r0", "apk-tools", gpl2, ncopa, 262144),
	}

	f, err := os.Open("testdata/installed")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// Through analyzer.Run, as the core calls it.
	frs := analyzer.Run(t.Context(), []analyzer.Analyzer{New()}, analyzer.Input{Path: dbPath, Info: info, Content: f})
	if len(frs) != 1 {
		t.Fatalf("Run returned %d results, want 1", len(frs))
	}
	fr := frs[0]
	if fr.Error != "" || fr.Analyzer != "pkg/apk" || fr.Path != dbPath {
		t.Fatalf("Run result %+v, want no error from pkg/apk at %s", fr, dbPath)
	}
	if diff := cmp.Diff(&analyzer.Result{Packages: want}, fr.Result); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	one := func(name, version, origin string, licenses ...string) inventory.Package {
		if len(licenses) == 0 {
			licenses = nil
		}
		return inventory.Package{
			Name: name, Version: version, Type: "apk", Source: &inventory.Source{Name: origin, Version: version},
			Licenses: licenses, FoundBy: "pkg/apk", Locations: []inventory.Location{{Path: dbPath}},
		}
	}
	tests := []struct {
		name    string
		in      string
		want    []inventory.Package
		wantErr string
	}{
		{name: "empty", in: ""},
		{name: "only blank lines", in: "\n\n\n"},
		{
			name: "no trailing blank line",
			in:   "P:musl\nV:1.2.5-r0\no:musl",
			want: []inventory.Package{one("musl", "1.2.5-r0", "musl")},
		},
		{
			name: "CRLF line endings",
			in:   "P:musl\r\nV:1.2.5-r0\r\nL:MIT\r\n\r\nP:zlib\r\nV:1.3.1-r1\r\n\r\n",
			want: []inventory.Package{one("musl", "1.2.5-r0", "musl", "MIT"), one("zlib", "1.3.1-r1", "zlib")},
		},
		{
			name: "origin defaults to the name",
			in:   "C:Q1abc=\nP:wolfi-baselayout\nV:20230201-r15\n\n",
			want: []inventory.Package{one("wolfi-baselayout", "20230201-r15", "wolfi-baselayout")},
		},
		{
			name: "several blank lines between stanzas",
			in:   "P:a\nV:1-r0\n\n\n\nP:b\nV:2-r0\n",
			want: []inventory.Package{one("a", "1-r0", "a"), one("b", "2-r0", "b")},
		},
		{
			name: "stanzas without a blank line between them",
			in:   "P:a\nV:1-r0\nF:usr\nR:a\nP:b\nV:2-r0\n",
			want: []inventory.Package{one("a", "1-r0", "a"), one("b", "2-r0", "b")},
		},
		{
			name: "file lines are skipped whatever they hold",
			in:   "P:a\nV:1-r0\nF:P:not-a-package\nR:V:9\na:0:0:755\nZ:Q1xyz=\nM:0:0:700\n\n",
			want: []inventory.Package{one("a", "1-r0", "a")},
		},
		{
			name: "licences separated by spaces are split",
			in:   "P:musl-utils\nV:1.1.24-r2\nL:MIT BSD GPL2+\n",
			want: []inventory.Package{one("musl-utils", "1.1.24-r2", "musl-utils", "MIT", "BSD", "GPL2+")},
		},
		{
			name: "an SPDX expression stays whole",
			in: "P:a\nV:1\nL:MIT AND BSD-2-Clause\n\nP:b\nV:1\nL:(MIT OR Apache-2.0)\n\n" +
				"P:c\nV:1\nL:GPL-2.0-only WITH Linux-syscall-note\n\nP:d\nV:1\nL:mit or bsd\n\nP:e\nV:1\nL:  ISC  \n\n",
			want: []inventory.Package{
				one("a", "1", "a", "MIT AND BSD-2-Clause"),
				one("b", "1", "b", "(MIT OR Apache-2.0)"),
				one("c", "1", "c", "GPL-2.0-only WITH Linux-syscall-note"),
				one("d", "1", "d", "mit or bsd"),
				one("e", "1", "e", "ISC"),
			},
		},
		{
			name:    "a stanza without a version is skipped",
			in:      "P:a\nV:1\n\nP:broken\nA:x86_64\n\nP:c\nV:3\n",
			want:    []inventory.Package{one("a", "1", "a"), one("c", "3", "c")},
			wantErr: `package at line 4: "broken": no version`,
		},
		{
			name:    "a stanza without a name is skipped",
			in:      "C:Q1abc=\nV:1\nT:orphan\n\nP:b\nV:2\n",
			want:    []inventory.Package{one("b", "2", "b")},
			wantErr: "package at line 1: no name",
		},
		{
			name:    "an unreadable installed size is reported, the package kept",
			in:      "P:a\nV:1\nI:lots\n\nP:b\nV:2\nI:-5\n",
			want:    []inventory.Package{one("a", "1", "a"), one("b", "2", "b")},
			wantErr: `line 3: installed size "lots" is not a size (and 1 more problems)`,
		},
		{
			name:    "values are shortened in errors",
			in:      "P:a\nV:1\nI:" + strings.Repeat("9", 100) + "\n",
			want:    []inventory.Package{one("a", "1", "a")},
			wantErr: `line 3: installed size "` + strings.Repeat("9", 64) + `"... is not a size`,
		},
		{
			name:    "terminal escapes in a name",
			in:      "P:evil\x1b[2J\nV:1\n\nP:ok\nV:1\n",
			want:    []inventory.Package{one("ok", "1", "ok")},
			wantErr: `name "evil\x1b[2J" has characters apk does not allow`,
		},
		{
			name:    "a line that is not KEY:VALUE",
			in:      "P:a\nV:1\nthis is not apk\n\n",
			want:    []inventory.Package{one("a", "1", "a")},
			wantErr: "line 3: not a KEY:VALUE line",
		},
		{
			name:    "invalid UTF-8 in a version",
			in:      "P:a\nV:1\xff\n",
			wantErr: "has characters apk does not allow",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInstalled(t.Context(), strings.NewReader(tt.in), dbPath)
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	small := limits{size: 1 << 10, line: 64, packages: 3}
	tests := []struct {
		name      string
		in        string
		wantCount int
		wantErr   string
	}{
		{"within limits", "P:a\nV:1\n\nP:b\nV:1\n\nP:c\nV:1\n", 3, ""},
		{"too many packages, separated", strings.Repeat("P:a\nV:1\n\n", 10), 3, "more than 3 packages; stopped at line 12"},
		{"too many packages, run together", strings.Repeat("P:a\nV:1\n", 10), 3, "more than 3 packages"},
		{"line too long", "P:a\nV:1\n\nP:b\nV:1\nT:" + strings.Repeat("x", 100) + "\n", 1, "line 6 longer than 64 bytes"},
		{"long file line", "P:a\nV:1\nR:" + strings.Repeat("x", 100) + "\n\n", 0, "longer than 64 bytes"},
		{"file too large", strings.Repeat("P:a\nV:1\nF:usr/share/some/dir\n\n", 100), 3, "more than 3 packages"},
		{"file too large, few packages", "P:a\nV:1\n" + strings.Repeat("F:usr/share/some/dir\n", 100), 0, "exceeds the 1024-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := small.parse(t.Context(), strings.NewReader(tt.in), dbPath)
			checkErr(t, err, tt.wantErr)
			if len(got) != tt.wantCount {
				t.Errorf("got %d packages, want %d", len(got), tt.wantCount)
			}
		})
	}
}

func TestAnalyzeCorrupt(t *testing.T) {
	fixture, err := os.ReadFile("testdata/installed")
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>8)
	}
	tests := []struct {
		name      string
		in        []byte
		wantCount int
		wantErr   string
	}{
		{"binary garbage", garbage, 0, "not a KEY:VALUE line"},
		{"an rpm database", append([]byte("SQLite format 3\x00"), garbage...), 0, "not a KEY:VALUE line"},
		{"truncated mid-stanza", fixture[:len(fixture)/2], 6, ""},
		{"truncated mid-line", fixture[:bytes.Index(fixture, []byte("P:zlib"))+4], 7, `"zl": no version`},
		{"a line of NUL bytes", insertAt(fixture, "P:musl\n", "\x00\x00\x00\x00\n"), 13, "line 56: not a KEY:VALUE line"},
		{"a NUL byte in a name", insertAt(fixture, "sl\nV:1.2.5", "\x00"), 12, `package at line 55: name "mu\x00sl" has characters`},
		{"a 2 MiB line", append(bytes.Clone(fixture), append([]byte("T:"), bytes.Repeat([]byte("x"), 2<<20)...)...), 13, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res, err := New().Analyze(t.Context(), analyzer.Input{Path: dbPath, Content: bytes.NewReader(tt.in)})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Analyze took %v", d)
			}
			checkErr(t, err, tt.wantErr)
			got := 0
			if res != nil {
				got = len(res.Packages)
			}
			if got != tt.wantCount {
				t.Errorf("got %d packages, want %d", got, tt.wantCount)
			}
		})
	}
}

func TestAnalyzeTooLarge(t *testing.T) {
	_, err := New().Analyze(t.Context(), analyzer.Input{
		Path:    dbPath,
		Info:    fakeInfo{size: maxDBSize + 1},
		Content: bytes.NewReader(nil),
	})
	checkErr(t, err, "exceeds the 268435456-byte limit")
}

func TestAnalyzeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	db := bytes.Repeat([]byte("P:a\nV:1\nF:usr\nR:a\n\n"), 1000)
	_, err := New().Analyze(ctx, analyzer.Input{Path: dbPath, Content: bytes.NewReader(db)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Analyze with a canceled context: err = %v, want context.Canceled", err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q, want it to contain %q", err, want)
	}
}

// insertAt inserts s into b before the first occurrence of at.
func insertAt(b []byte, at, s string) []byte {
	i := bytes.Index(b, []byte(at))
	out := append(bytes.Clone(b[:i]), s...)
	return append(out, b[i:]...)
}

type fakeInfo struct{ size int64 }

func (f fakeInfo) Name() string       { return "installed" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func BenchmarkParse(b *testing.B) {
	fixture, err := os.ReadFile("testdata/installed")
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name   string
		copies int
	}{
		{"alpine-base", 1},
		// About the size of a large image's database: 1,300 packages.
		{"x100", 100},
	} {
		data := bytes.Repeat(fixture, bm.copies)
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				pkgs, err := parseInstalled(b.Context(), bytes.NewReader(data), dbPath)
				if err != nil || len(pkgs) != 13*bm.copies {
					b.Fatalf("parse: %d packages, %v", len(pkgs), err)
				}
			}
		})
	}
}
