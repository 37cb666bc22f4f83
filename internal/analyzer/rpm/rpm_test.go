package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/var/lib/rpm/Packages", true},
		{"/var/lib/rpm/Packages.db", true},
		{"/var/lib/rpm/rpmdb.sqlite", true},
		{"/usr/lib/sysimage/rpm/Packages", true},
		{"/usr/lib/sysimage/rpm/Packages.db", true},
		{"/usr/lib/sysimage/rpm/rpmdb.sqlite", true},
		{"/usr/share/rpm/Packages", true},
		{"/usr/share/rpm/rpmdb.sqlite", true},
		{"/var/lib/rpm/rpmdb.sqlite-wal", false},
		{"/var/lib/rpm/Name", false},
		{"/var/lib/rpm/__db.001", false},
		{"/opt/app/var/lib/rpm/Packages", false},
		{"var/lib/rpm/Packages", false},
		{"/var/lib/rpm/packages", false},
	}
	a := New()
	for _, tt := range tests {
		if got := a.Required(tt.path, nil); got != tt.want {
			t.Errorf("Required(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestAnalyzeFixtures(t *testing.T) {
	type pkgWant = inventory.Package
	rpmPkg := func(path, name, version string, epoch int, arch, srcName, srcVersion, license, vendor string, size int64) inventory.Package {
		return inventory.Package{
			Name: name, Version: version, Type: "rpm", Arch: arch, Epoch: epoch,
			Source:   &inventory.Source{Name: srcName, Version: srcVersion},
			Licenses: []string{license}, Maintainer: vendor, InstalledSize: size,
			FoundBy: "pkg/rpm", Locations: []inventory.Location{{Path: path}},
		}
	}
	const (
		bdb    = "/var/lib/rpm/Packages"
		ndb    = "/usr/lib/sysimage/rpm/Packages.db"
		sqlite = "/var/lib/rpm/rpmdb.sqlite"
	)
	tests := []struct {
		name    string
		fixture string
		path    string
		// count excludes the gpg-pubkey pseudo-packages.
		count int
		some  []pkgWant
	}{
		{
			name: "CentOS 5 Berkeley DB (hash v8)", fixture: "centos5-plain/Packages", path: bdb, count: 110,
			some: []pkgWant{
				rpmPkg(bdb, "bash", "3.2-33.el5_11.4", 0, "x86_64", "bash", "3.2-33.el5_11.4", "GPLv2+", "CentOS", 5235475),
				rpmPkg(bdb, "vim-minimal", "7.0.109-7.2.el5", 2, "x86_64", "vim", "7.0.109-7.2.el5", "freeware", "CentOS", 630565),
			},
		},
		{
			name: "CentOS 6 Berkeley DB", fixture: "centos6-plain/Packages", path: bdb, count: 129,
			some: []pkgWant{
				rpmPkg(bdb, "libuuid", "2.17.2-12.28.el6_9.2", 0, "x86_64", "util-linux-ng", "2.17.2-12.28.el6_9.2", "BSD", "CentOS", 16304),
				rpmPkg(bdb, "dbus-libs", "1.2.24-9.el6", 1, "x86_64", "dbus", "1.2.24-9.el6", "GPLv2+ or AFL", "CentOS", 265736),
			},
		},
		{name: "CentOS 6 devtools", fixture: "centos6-devtools/Packages", path: bdb, count: 262},
		{name: "CentOS 6 many", fixture: "centos6-many/Packages", path: bdb, count: 325},
		{
			name: "CentOS 7 Berkeley DB", fixture: "centos7-plain/Packages", path: bdb, count: 144,
			some: []pkgWant{
				rpmPkg(bdb, "openssl-libs", "1.0.2k-12.el7", 1, "x86_64", "openssl", "1.0.2k-12.el7", "OpenSSL", "CentOS", 3200172),
				rpmPkg(bdb, "filesystem", "3.2-25.el7", 0, "x86_64", "filesystem", "3.2-25.el7", "Public Domain", "CentOS", 0),
			},
		},
		{name: "CentOS 7 devtools", fixture: "centos7-devtools/Packages", path: bdb, count: 263},
		{name: "CentOS 7 httpd24 (three gpg-pubkeys)", fixture: "centos7-httpd24/Packages", path: bdb, count: 222},
		{name: "CentOS 7 many", fixture: "centos7-many/Packages", path: bdb, count: 395},
		{name: "CentOS 7 python35", fixture: "centos7-python35/Packages", path: bdb, count: 342},
		{
			name: "CentOS 8 with modules", fixture: "centos8-modularitylabel/Packages", path: bdb, count: 517,
			some: []pkgWant{
				rpmPkg(bdb, "bash", "4.4.19-10.el8", 0, "x86_64", "bash", "4.4.19-10.el8", "GPLv3+", "CentOS", 6930068),
			},
		},
		{
			name: "UBI 8 s390x (big-endian Berkeley DB)", fixture: "ubi8-s390x/Packages", path: bdb, count: 181,
			some: []pkgWant{
				rpmPkg(bdb, "openssl-libs", "1.1.1k-6.el8_5", 1, "s390x", "openssl", "1.1.1k-6.el8_5", "OpenSSL and ASL 2.0", "Red Hat, Inc.", 3364026),
				rpmPkg(bdb, "tzdata", "2022a-1.el8", 0, "noarch", "tzdata", "2022a-1.el8", "Public Domain", "Red Hat, Inc.", 1891990),
			},
		},
		{
			name: "single package", fixture: "libuuid/Packages", path: bdb, count: 1,
			some: []pkgWant{
				rpmPkg(bdb, "libuuid", "2.32.1-42.el8_8", 0, "x86_64", "util-linux", "2.32.1-42.el8_8", "BSD", "Red Hat, Inc.", 35104),
			},
		},
		{
			name: "SLE 15 BCI NDB", fixture: "sle15-bci/Packages.db", path: ndb, count: 35,
			some: []pkgWant{
				rpmPkg(ndb, "glibc", "2.31-9.3.2", 0, "x86_64", "glibc", "2.31-9.3.2",
					"LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0 AND GPL-2.0-or-later",
					"SUSE LLC <https://www.suse.com/>", 6183407),
				rpmPkg(ndb, "bash", "4.4-19.6.1", 0, "x86_64", "bash", "4.4-19.6.1", "GPL-3.0-or-later", "SUSE LLC <https://www.suse.com/>", 1114706),
			},
		},
		{
			name: "Fedora 35 SQLite", fixture: "fedora35/rpmdb.sqlite", path: sqlite, count: 137,
			some: []pkgWant{
				rpmPkg(sqlite, "openssl-libs", "1.1.1l-2.fc35", 1, "x86_64", "openssl", "1.1.1l-2.fc35", "OpenSSL and ASL 2.0", "Fedora Project", 3855396),
				rpmPkg(sqlite, "vim-minimal", "8.2.3642-1.fc35", 2, "x86_64", "vim", "8.2.3642-1.fc35", "Vim and MIT", "Fedora Project", 1529767),
			},
		},
		{name: "Fedora 35 plus mongo", fixture: "fedora35-plus-mongo/rpmdb.sqlite", path: sqlite, count: 141},
		{
			name: "CBL-Mariner 2.0 SQLite", fixture: "cbl-mariner-2.0/rpmdb.sqlite", path: sqlite, count: 129,
			some: []pkgWant{
				rpmPkg(sqlite, "glibc", "2.34-2.cm2", 0, "x86_64", "glibc", "2.34-2.cm2",
					"BSD AND GPLv2+ AND Inner-Net AND ISC AND LGPLv2+ AND MIT", "Microsoft Corporation", 9867459),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.some == nil {
				t.Skip("count-only fixture in -short mode")
			}
			res, err := analyze(t, t.Context(), tt.path, readFixture(t, tt.fixture))
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if res.OS != nil || len(res.Licenses) != 0 {
				t.Errorf("Analyze reported OS %v / licenses %v, want packages only", res.OS, res.Licenses)
			}
			if got := len(res.Packages); got != tt.count {
				t.Errorf("got %d packages, want %d", got, tt.count)
			}
			byName := map[string]inventory.Package{}
			for _, p := range res.Packages {
				if p.Name == "gpg-pubkey" {
					t.Errorf("gpg-pubkey %s reported as a package", p.Version)
				}
				if p.Type != "rpm" || p.FoundBy != "pkg/rpm" || p.PURL != "" || p.Version == "" {
					t.Errorf("malformed package %+v", p)
				}
				byName[p.Name] = p
			}
			for _, want := range tt.some {
				got, ok := byName[want.Name]
				if !ok {
					t.Errorf("package %s missing", want.Name)
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("package %s mismatch (-want +got):\n%s", want.Name, diff)
				}
			}
		})
	}
}

func TestParseSourceRPM(t *testing.T) {
	tests := []struct {
		in   string
		want *inventory.Source
	}{
		{"bash-4.4.19-14.el8.src.rpm", &inventory.Source{Name: "bash", Version: "4.4.19-14.el8"}},
		{"util-linux-ng-2.17.2-12.28.el6_9.2.src.rpm", &inventory.Source{Name: "util-linux-ng", Version: "2.17.2-12.28.el6_9.2"}},
		{"python3.11-3.11.7-1.el9.src.rpm", &inventory.Source{Name: "python3.11", Version: "3.11.7-1.el9"}},
		{"kernel-5.14.0-362.8.1.el9_3.nosrc.rpm", &inventory.Source{Name: "kernel", Version: "5.14.0-362.8.1.el9_3"}},
		{"a-1-2.src.rpm", &inventory.Source{Name: "a", Version: "1-2"}},
		{"", nil},
		{"(none)", nil},
		{"bash-4.4.19-14.el8.src", nil},
		{"bash-4.4.19.src.rpm", nil},
		{"bash.src.rpm", nil},
		{"-4.4.19-14.el8.src.rpm", nil},
		{"bash--14.el8.src.rpm", nil},
		{"bash-4.4.19-.src.rpm", nil},
		{".rpm", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseSourceRPM(tt.in)); diff != "" {
			t.Errorf("parseSourceRPM(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestAnalyzeBuilt(t *testing.T) {
	// The same headers in each of the three formats.
	var files []string
	for i := range 300 {
		files = append(files, fmt.Sprintf("file-%03d", i))
	}
	blobs := [][]byte{
		pkgHeader("libuuid", "2.32.1", "42.el8_8"),
		pkgHeader("gpg-pubkey", "fd431d51", "4ae0493b"),
		// Spans several overflow pages in the Berkeley DB variants.
		buildHeader(
			str(tagName, "filesystem"), str(tagVersion, "3.8"), str(tagRelease, "6.el8"),
			i32(tagEpoch, 1), str(tagArch, "s390x"), str(tagVendor, "Red Hat, Inc."),
			strArray(tagBaseNames, files...),
		),
	}
	want := []inventory.Package{{
		Name: "libuuid", Version: "2.32.1-42.el8_8", Type: "rpm", Arch: "x86_64",
		Source:   &inventory.Source{Name: "util-linux", Version: "2.32.1-42.el8_8"},
		Licenses: []string{"BSD"}, InstalledSize: 35104, FoundBy: "pkg/rpm",
		Locations: []inventory.Location{{Path: "/var/lib/rpm/x"}},
	}, {
		Name: "filesystem", Version: "3.8-6.el8", Type: "rpm", Arch: "s390x", Epoch: 1,
		Maintainer: "Red Hat, Inc.", FoundBy: "pkg/rpm",
		Locations: []inventory.Location{{Path: "/var/lib/rpm/x"}},
	}}
	tests := []struct {
		name string
		data []byte
	}{
		{"bdb", joinPages(bdbPages(512, blobs...))},
		{"bdb with 64 KiB pages", joinPages(bdbPages(65536, blobs...))},
		{"ndb", buildNDB(blobs...)},
		{"sqlite", buildSQLite(t, "", blobs...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := analyze(t, t.Context(), "/var/lib/rpm/x", tt.data)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if diff := cmp.Diff(want, res.Packages); diff != "" {
				t.Errorf("packages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnalyzeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := analyze(t, ctx, "/var/lib/rpm/Packages", readFixture(t, "centos7-plain/Packages"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Analyze with a canceled context: err = %v, want context.Canceled", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		head    []byte
		want    format
		wantErr bool
	}{
		{"short", []byte("SQLite format 3\x00"), 0, true},
		{"sqlite", append([]byte("SQLite format 3\x00"), make([]byte, 16)...), formatSQLite, false},
		{"ndb", buildNDB()[:32], formatNDB, false},
		{"ndb with no slot pages is not ndb", append([]byte("RpmP"), make([]byte, 28)...), formatBDB, false},
		{"anything else", make([]byte, 32), formatBDB, false},
	}
	for _, tt := range tests {
		got, err := sniff(tt.head)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: sniff = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for _, bm := range []struct{ name, fixture string }{
		{"bdb/centos7-many", "centos7-many/Packages"},
		{"ndb/sle15-bci", "sle15-bci/Packages.db"},
		{"sqlite/fedora35", "fedora35/rpmdb.sqlite"},
	} {
		data := readFixture(b, bm.fixture)
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := analyze(b, b.Context(), "/var/lib/rpm/Packages", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGuard measures what checking costs on top of go-rpmdb.
func BenchmarkGuard(b *testing.B) {
	for _, bm := range []struct {
		name, fixture string
		format        format
	}{
		{"bdb/centos7-many", "centos7-many/Packages", formatBDB},
		{"ndb/sle15-bci", "sle15-bci/Packages.db", formatNDB},
		{"sqlite/fedora35", "fedora35/rpmdb.sqlite", formatSQLite},
	} {
		path := fixture(b, bm.fixture)
		data := readFixture(b, bm.fixture)
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := checkDB(b.Context(), bm.format, bytes.NewReader(data), int64(len(data)), path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
