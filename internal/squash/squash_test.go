package squash

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func deb(name, version string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Type: inventory.TypeDeb, Arch: "amd64", Source: &inventory.Source{Name: name, Version: version}, FoundBy: "pkg/dpkg"}
}

func status(pkgs ...inventory.Package) analyzer.FileResult {
	return analyzer.FileResult{Path: "/var/lib/dpkg/status", Analyzer: "pkg/dpkg", Result: &analyzer.Result{Packages: pkgs}}
}

func layers(n int) []inventory.Layer {
	var ls []inventory.Layer
	for i := 0; i < n; i++ {
		ls = append(ls, inventory.Layer{Index: i, DiffID: "sha256:" + string(rune('a'+i)), CreatedBy: "RUN step " + string(rune('0'+i))})
	}
	return ls
}

func TestApplyOriginLayer(t *testing.T) {
	// Layer 0 installs libc6 and zlib1g; layer 1 adds curl; layer 2
	// upgrades zlib1g; layer 3 touches nothing dpkg knows.
	results := []*LayerResult{
		{Files: []analyzer.FileResult{status(deb("libc6", "2.36-9"), deb("zlib1g", "1:1.2.13.dfsg-1")),
			{Path: "/usr/lib/os-release", Analyzer: "os/release", Result: &analyzer.Result{OS: &inventory.OS{ID: "debian", VersionID: "12"}}}},
			Symlinks: map[string]string{"/etc/os-release": "../usr/lib/os-release"}},
		{Files: []analyzer.FileResult{status(deb("libc6", "2.36-9"), deb("zlib1g", "1:1.2.13.dfsg-1"), deb("curl", "7.88.1-10"))}},
		{Files: []analyzer.FileResult{status(deb("libc6", "2.36-9"), deb("zlib1g", "1:1.2.13.dfsg-2"), deb("curl", "7.88.1-10"))}},
		{},
	}
	out := Apply(layers(4), results)
	got := map[string]int{}
	for _, p := range out.Inventory.Packages {
		got[p.Name+"@"+p.Version] = p.Locations[0].LayerIndex
		if want := "RUN step " + string(rune('0'+p.Locations[0].LayerIndex)); p.Locations[0].CreatedBy != want {
			t.Errorf("%s CreatedBy = %q, want %q", p.Name, p.Locations[0].CreatedBy, want)
		}
	}
	want := map[string]int{"libc6@2.36-9": 0, "curl@7.88.1-10": 1, "zlib1g@1:1.2.13.dfsg-2": 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("origin layers (-want +got):\n%s", diff)
	}
	if out.Inventory.OS == nil || out.Inventory.OS.ID != "debian" {
		t.Fatalf("OS = %+v", out.Inventory.OS)
	}
	if purl := out.Inventory.Packages[1].PURL; purl != "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12" {
		t.Errorf("purl = %s", purl)
	}
}

func TestApplyWhiteouts(t *testing.T) {
	secret := analyzer.FileResult{Path: "/app/.env", Analyzer: "secret", Result: &analyzer.Result{Licenses: []analyzer.PackageLicense{{Name: "x"}}}}
	inDir := analyzer.FileResult{Path: "/opt/tool/status", Analyzer: "pkg/dpkg", Result: &analyzer.Result{Packages: []inventory.Package{deb("tool", "1")}}}
	results := []*LayerResult{
		{Files: []analyzer.FileResult{secret, inDir, status(deb("a", "1"))}},
		{Whiteouts: []string{"/app/.env"}, OpaqueDirs: []string{"/opt/tool"}},
		{Whiteouts: []string{"/var/lib/dpkg"}},
		{Files: []analyzer.FileResult{status(deb("b", "1"))}},
	}
	out := Apply(layers(4), results)
	var names []string
	for _, p := range out.Inventory.Packages {
		names = append(names, p.Name+"@"+itoa(p.Locations[0].LayerIndex))
	}
	if diff := cmp.Diff([]string{"b@3"}, names); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	type del struct {
		Path          string
		Added, Delete int
	}
	var gotDel []del
	for _, d := range out.Deleted {
		gotDel = append(gotDel, del{d.Path, d.AddedIn, d.DeletedIn})
	}
	wantDel := []del{{"/app/.env", 0, 1}, {"/opt/tool/status", 0, 1}, {"/var/lib/dpkg/status", 0, 2}}
	if diff := cmp.Diff(wantDel, gotDel); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}

func TestApplyLicensesAndWarnings(t *testing.T) {
	results := []*LayerResult{{
		Files: []analyzer.FileResult{
			status(deb("gcc-12-base", "12.2.0-14"), deb("libgcc-s1", "12.2.0-14")),
			{Path: "/usr/share/doc/gcc-12-base/copyright", Analyzer: "pkg/dpkg", Result: &analyzer.Result{
				Licenses: []analyzer.PackageLicense{{Type: inventory.TypeDeb, Name: "gcc-12-base", Licenses: []string{"GPL-3.0-or-later"}}}}},
			{Path: "/var/lib/rpm/Packages", Analyzer: "pkg/rpm", Error: "corrupt database"},
		},
		Symlinks: map[string]string{"/usr/share/doc/libgcc-s1": "gcc-12-base"},
	}}
	out := Apply(layers(1), results)
	for _, p := range out.Inventory.Packages {
		if diff := cmp.Diff([]string{"GPL-3.0-or-later"}, p.Licenses); diff != "" {
			t.Errorf("%s licences (-want +got):\n%s", p.Name, diff)
		}
	}
	want := []inventory.Warning{{Analyzer: "pkg/rpm", Path: "/var/lib/rpm/Packages", Layer: "sha256:a", Message: "corrupt database"}}
	if diff := cmp.Diff(want, out.Inventory.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	links := map[string]string{
		"/lib":            "usr/lib",
		"/etc/os-release": "../usr/lib/os-release",
		"/abs":            "/etc/os-release",
		"/loop1":          "loop2",
		"/loop2":          "/loop1",
		"/escape":         "../../../../etc/passwd",
		"/usr/lib/x/dot":  ".",
	}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/lib/apk/db/installed", "/usr/lib/apk/db/installed", true},
		{"/etc/os-release", "/usr/lib/os-release", true},
		{"/abs", "/usr/lib/os-release", true},
		{"/loop1/x", "", false},
		{"/escape", "/etc/passwd", true},
		{"/plain/file", "/plain/file", true},
		{"/lib/x/dot/dot/y", "/usr/lib/x/y", true},
	}
	for _, tt := range tests {
		got, ok := Resolve(links, tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Resolve(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// BenchmarkApplyManyWhiteouts: a hostile layer of 100,000 whiteouts over
// 10,000 known paths must stay linear.
func BenchmarkApplyManyWhiteouts(b *testing.B) {
	var files []analyzer.FileResult
	for i := 0; i < 10_000; i++ {
		files = append(files, analyzer.FileResult{Path: "/srv/d" + itoaN(i%100) + "/f" + itoaN(i), Analyzer: "x"})
	}
	var wh []string
	for i := 0; i < 100_000; i++ {
		wh = append(wh, "/other/w"+itoaN(i))
	}
	wh = append(wh, "/srv/d7")
	results := []*LayerResult{{Files: files}, {Whiteouts: wh}}
	for i := 0; i < b.N; i++ {
		out := Apply(layers(2), results)
		if len(out.Deleted) != 100 {
			b.Fatalf("deleted %d, want 100", len(out.Deleted))
		}
	}
}

func itoaN(i int) string {
	if i == 0 {
		return "0"
	}
	var s []byte
	for ; i > 0; i /= 10 {
		s = append([]byte{byte('0' + i%10)}, s...)
	}
	return string(s)
}

func TestFoldOwnedLanguagePackages(t *testing.T) {
	pypi := inventory.Package{Name: "requests", Version: "2.28.1", Type: "pypi", PURL: "pkg:pypi/requests@2.28.1", FoundBy: "lang/python"}
	own := inventory.Package{Name: "mine", Version: "1.0", Type: "pypi", PURL: "pkg:pypi/mine@1.0", FoundBy: "lang/python"}
	results := []*LayerResult{{
		Files: []analyzer.FileResult{
			status(deb("python3-requests", "2.28.1+dfsg-1")),
			{Path: "/var/lib/dpkg/info/python3-requests.list", Analyzer: "pkg/dpkg", Result: &analyzer.Result{Owned: []analyzer.OwnedFiles{{
				Type: inventory.TypeDeb, Package: "python3-requests",
				Paths: []string{"/usr", "/usr/lib/python3/dist-packages/requests-2.28.1.egg-info", "/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO"}}}}},
			{Path: "/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO", Analyzer: "lang/python", Result: &analyzer.Result{Packages: []inventory.Package{pypi}}},
			{Path: "/app/venv/lib/mine-1.0.dist-info/METADATA", Analyzer: "lang/python", Result: &analyzer.Result{Packages: []inventory.Package{own}}},
		},
	}}
	out := Apply(layers(1), results)
	var got []string
	for _, p := range out.Inventory.Packages {
		got = append(got, p.Type+"/"+p.Name+" "+strings.Join(p.OtherPURLs, ","))
	}
	want := []string{"deb/python3-requests pkg:pypi/requests@2.28.1", "pypi/mine "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

// A language package found both at a path a deb owns and at a copy nobody
// owns (a jar copied from /usr/share/java into /app/lib) is folded into the
// deb for the owned path only: the copy stays a package of its own.
func TestFoldOwnedKeepsUnownedCopies(t *testing.T) {
	jar := func(path string) analyzer.FileResult {
		return analyzer.FileResult{Path: path, Analyzer: "lang/java", Result: &analyzer.Result{Packages: []inventory.Package{{
			Name: "com.fasterxml.jackson.core:jackson-databind", Version: "2.14.0", Type: "maven",
			PURL: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0", FoundBy: "lang/java",
			Locations: []inventory.Location{{Path: path}},
		}}}}
	}
	files := []analyzer.FileResult{
		jar("/app/lib/jackson-databind-2.14.0.jar"),
		status(deb("libjackson2-databind-java", "2.14.0-1+deb12u1")),
		{Path: "/var/lib/dpkg/info/libjackson2-databind-java.list", Analyzer: "pkg/dpkg", Result: &analyzer.Result{Owned: []analyzer.OwnedFiles{{
			Type: inventory.TypeDeb, Package: "libjackson2-databind-java",
			Paths: []string{"/usr/share/java", "/usr/share/java/jackson-databind.jar"}}}}},
		jar("/usr/share/java/jackson-databind.jar"),
	}
	type row struct {
		Pkg   string
		Other string
		Paths string
	}
	want := []row{
		{"deb/libjackson2-databind-java", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0", "/var/lib/dpkg/status"},
		{"maven/com.fasterxml.jackson.core:jackson-databind", "", "/app/lib/jackson-databind-2.14.0.jar"},
	}
	// The result must not depend on the order the files were analysed in.
	for _, reversed := range []bool{false, true} {
		in := slices.Clone(files)
		if reversed {
			slices.Reverse(in)
		}
		out := Apply(layers(1), []*LayerResult{{Files: in}})
		var got []row
		for _, p := range out.Inventory.Packages {
			var paths []string
			for _, l := range p.Locations {
				paths = append(paths, l.Path)
			}
			got = append(got, row{p.Type + "/" + p.Name, strings.Join(p.OtherPURLs, ","), strings.Join(paths, ",")})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reversed=%v: packages (-want +got):\n%s", reversed, diff)
		}
	}
}

func TestSecretsInEveryLayer(t *testing.T) {
	sec := func(path, fp string) analyzer.FileResult {
		return analyzer.FileResult{Path: path, Analyzer: "secret", Result: &analyzer.Result{Secrets: []inventory.Secret{
			{RuleID: "aws-access-key-id", Severity: "CRITICAL", Path: path, Line: 3, Match: "AKIA****", Fingerprint: fp}}}}
	}
	results := []*LayerResult{
		{Files: []analyzer.FileResult{sec("/app/.env", "f1"), sec("/etc/keep", "f2")}},
		{Files: []analyzer.FileResult{sec("/app/config", "f3")}},
		{Whiteouts: []string{"/app/.env"}, Files: []analyzer.FileResult{{Path: "/app/config", Analyzer: "secret"}}},
		{Files: []analyzer.FileResult{sec("/etc/keep", "f2")}}, // the same file again (chmod): still layer 0
	}
	out := Apply(layers(4), results)
	type row struct {
		Path    string
		Layer   int
		Deleted int
	}
	var got []row
	for _, s := range out.Inventory.Secrets {
		d := -1
		if s.DeletedInLayer != nil {
			d = *s.DeletedInLayer
		}
		got = append(got, row{s.Path, s.LayerIndex, d})
	}
	want := []row{{"/app/.env", 0, 2}, {"/app/config", 1, 2}, {"/etc/keep", 0, -1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	if out.Inventory.Secrets[0].CreatedBy != "RUN step 0" {
		t.Errorf("CreatedBy = %q", out.Inventory.Secrets[0].CreatedBy)
	}
}
