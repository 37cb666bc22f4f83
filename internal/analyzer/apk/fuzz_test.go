package apk

import (
	"bytes"
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	fixture, err := os.ReadFile("testdata/installed")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte("P:musl\r\nV:1.2.5-r0\r\nL:MIT BSD GPL2+\r\no:musl\r\nI:1\r\n\r\n"))
	f.Add([]byte("P:a\nV:1\nP:b\nV:2\nF:usr\nR:x\na:0:0:755\nZ:Q1=\n\n\n"))
	f.Add([]byte("C:Q1abc=\nV:1\nL:(MIT OR Apache-2.0) AND BSD\nI:x\n"))
	small := limits{size: 4 << 10, line: 256, packages: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []limits{defaultLimits, small} {
			pkgs, _ := lim.parse(t.Context(), bytes.NewReader(data), dbPath)
			if len(pkgs) > lim.packages {
				t.Fatalf("%d packages, limit %d", len(pkgs), lim.packages)
			}
			for _, p := range pkgs {
				if p.Name == "" || p.Version == "" || !isToken(p.Name) || !isToken(p.Version) || !isToken(p.Arch) {
					t.Fatalf("bad package %+v", p)
				}
				if p.Source == nil || p.Source.Name == "" || p.Source.Version != p.Version {
					t.Fatalf("bad source %+v", p.Source)
				}
				if p.Type != "apk" || p.FoundBy != "pkg/apk" || len(p.Locations) != 1 || p.InstalledSize < 0 {
					t.Fatalf("bad package %+v", p)
				}
				for _, l := range p.Licenses {
					if l == "" {
						t.Fatalf("empty licence in %+v", p)
					}
				}
			}
		}
	})
}
