package list

import (
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	img := Default(Image).Versions()
	src := Default(SourceTree).Versions()
	for _, name := range []string{"os/release", "pkg/dpkg", "pkg/apk", "pkg/rpm", "lang/gobinary", "lang/npm", "lang/python"} {
		if !strings.Contains(img, name+"@") || !strings.Contains(src, name+"@") {
			t.Errorf("%s missing: image %s, source %s", name, img, src)
		}
	}
	for _, name := range []string{"lang/gomod", "lang/npm-lock", "lang/python-lock"} {
		if strings.Contains(img, name+"@") {
			t.Errorf("declared-dependency analyzer %s runs on images", name)
		}
		if !strings.Contains(src, name+"@") {
			t.Errorf("%s missing from source-tree scans", name)
		}
	}
}

func TestSelect(t *testing.T) {
	g, err := Select([]string{"os", "pkg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Analyzers()) != len(all) {
		t.Errorf("os+pkg selected %d of %d", len(g.Analyzers()), len(all))
	}
	if _, err := Select([]string{"nope"}); err == nil {
		t.Error("unknown tag accepted")
	}
}
