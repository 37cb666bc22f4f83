package imagefacts

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

type fakeInfo struct {
	size int64
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestFacts(t *testing.T) {
	type fact struct{ ID, Message, Resource string }
	for _, tc := range []struct {
		path string
		info fakeInfo
		want []fact
	}{
		{"/usr/bin/passwd", fakeInfo{60000, fs.ModeSetuid | 0o755}, []fact{{misconfig.IMGSetuid, "/usr/bin/passwd is setuid (mode 4755)", ""}}},
		{"/usr/bin/wall", fakeInfo{30000, fs.ModeSetgid | 0o755}, []fact{{misconfig.IMGSetuid, "/usr/bin/wall is setgid (mode 2755)", ""}}},
		{"/usr/bin/odd", fakeInfo{1, fs.ModeSetuid | fs.ModeSetgid | 0o777}, []fact{
			{misconfig.IMGSetuid, "/usr/bin/odd is setuid and setgid (mode 6777)", ""},
			{misconfig.IMGWorldWritable, "/usr/bin/odd is world-writable (mode 6777)", ""},
		}},
		{"/usr/bin/sudo", fakeInfo{200000, fs.ModeSetuid | 0o755}, []fact{
			{misconfig.IMGSetuid, "/usr/bin/sudo is setuid (mode 4755)", ""},
			{misconfig.IMGSudo, "/usr/bin/sudo is installed", ""},
		}},
		{"/usr/sbin/sshd", fakeInfo{900000, 0o755}, []fact{{misconfig.IMGSshd, "SSH server /usr/sbin/sshd is installed", ""}}},
		{"/app/data/state.json", fakeInfo{10, 0o666}, []fact{{misconfig.IMGWorldWritable, "/app/data/state.json is world-writable (mode 0666)", ""}}},
		{"/tmp/x", fakeInfo{10, 0o777}, nil},
		{"/var/tmp/x", fakeInfo{10, 0o666}, nil},
		{"/tmp", fakeInfo{0, fs.ModeDir | fs.ModeSticky | 0o777}, nil},
		{"/usr/bin/ls", fakeInfo{140000, 0o755}, nil},
		{"/usr/bin/passwd", fakeInfo{60000, 0o755}, nil}, // bits stripped by a later layer: still offered
		{"/usr/bin/link", fakeInfo{0, fs.ModeSymlink | 0o777}, nil},
		{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", fakeInfo{150000, 0o644}, []fact{{misconfig.IMGPkgCache, "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease is a package-manager cache file", "cache:apt-lists"}}},
		{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", fakeInfo{9 << 20, 0o644}, nil},
		{"/var/lib/apt/lists/lock", fakeInfo{0, 0o640}, nil},
		{"/var/cache/apt/archives/curl_7.88_amd64.deb", fakeInfo{300000, 0o644}, []fact{{misconfig.IMGPkgCache, "/var/cache/apt/archives/curl_7.88_amd64.deb is a package-manager cache file", "cache:apt-archives"}}},
		{"/var/cache/apt/archives/huge.deb", fakeInfo{100 << 20, 0o644}, nil},
		{"/var/cache/apk/APKINDEX.5022a8a2.tar.gz", fakeInfo{600000, 0o644}, []fact{{misconfig.IMGPkgCache, "/var/cache/apk/APKINDEX.5022a8a2.tar.gz is a package-manager cache file", "cache:apk"}}},
		{"/var/cache/dnf/fedora-0123/repodata/repomd.xml", fakeInfo{4000, 0o644}, []fact{{misconfig.IMGPkgCache, "/var/cache/dnf/fedora-0123/repodata/repomd.xml is a package-manager cache file", "cache:dnf"}}},
		{"/var/cache/yum/x86_64/7/base/repomd.xml", fakeInfo{4000, 0o644}, []fact{{misconfig.IMGPkgCache, "/var/cache/yum/x86_64/7/base/repomd.xml is a package-manager cache file", "cache:yum"}}},
		{"/root/.cache/pip/http-v2/a/b/c/d/e/abcdef", fakeInfo{3000, 0o600}, []fact{{misconfig.IMGPkgCache, "/root/.cache/pip/http-v2/a/b/c/d/e/abcdef is a package-manager cache file", "cache:pip"}}},
		{"/home/app/.npm/_cacache/index-v5/12/34/abcd", fakeInfo{300, 0o644}, []fact{{misconfig.IMGPkgCache, "/home/app/.npm/_cacache/index-v5/12/34/abcd is a package-manager cache file", "cache:npm"}}},
		{"/home/app/.npm/_cacache/content-v2/sha512/ab/cd", fakeInfo{300, 0o644}, nil},
		{"/usr/local/share/.cache/yarn/v6/npm-lodash-4.17.21/node_modules/lodash/.yarn-metadata.json", fakeInfo{2000, 0o644}, []fact{{misconfig.IMGPkgCache, "/usr/local/share/.cache/yarn/v6/npm-lodash-4.17.21/node_modules/lodash/.yarn-metadata.json is a package-manager cache file", "cache:yarn"}}},
	} {
		a := New()
		got := Facts(tc.path, tc.info)
		var gotFacts []fact
		for _, f := range got {
			gotFacts = append(gotFacts, fact{f.ID, f.Message, f.Resource})
			if f.Path != tc.path || f.Type != misconfig.TypeImage || f.Severity == "" {
				t.Errorf("%s: fact %+v", tc.path, f)
			}
		}
		if diff := cmp.Diff(tc.want, gotFacts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.path, diff)
		}
		if req := a.Required(tc.path, tc.info); req != (len(tc.want) > 0 || knownSetuid[tc.path] && tc.info.mode.IsRegular()) {
			t.Errorf("Required(%s) = %v", tc.path, req)
		}
	}
}

// panicContent fails the test if Analyze touches the file's bytes.
type panicContent struct{ t *testing.T }

func (p panicContent) Read([]byte) (int, error) {
	p.t.Fatal("Analyze read the content")
	return 0, nil
}
func (p panicContent) ReadAt([]byte, int64) (int, error) {
	p.t.Fatal("Analyze read the content")
	return 0, nil
}
func (p panicContent) Seek(int64, int) (int64, error) { return 0, nil }

func TestAnalyzeReadsNothing(t *testing.T) {
	a := New()
	info := fakeInfo{100, fs.ModeSetuid | 0o755}
	if _, err := a.Analyze(t.Context(), analyzer.Input{Path: "/usr/bin/su", Info: info, Content: panicContent{t}}); err != nil {
		t.Fatal(err)
	}
	if a.Name() != "imagefacts" || a.Version() < 1 {
		t.Errorf("name %q version %d", a.Name(), a.Version())
	}
	if Facts("/x", nil) != nil {
		t.Error("nil info")
	}
	if !strings.HasPrefix(octal(fs.ModeSticky|0o777), "1") {
		t.Error("sticky bit not shown")
	}
}
