package drift

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// TestLowerDirs stacks three layer directories the way Docker's overlay2
// stores them (whiteouts as 0/0 character devices, opaque directories
// marked with trusted.overlay.opaque) and looks paths up through them.
func TestLowerDirs(t *testing.T) {
	root := t.TempDir()
	top, mid, base := filepath.Join(root, "top"), filepath.Join(root, "mid"), filepath.Join(root, "base")
	files := map[string]string{
		"base/etc/passwd":     "root:x:0:0\n",
		"base/etc/gone":       "x",
		"base/opt/app/old":    "old",
		"base/opt/app/kept":   "base",
		"base/usr/bin/tool":   "v1",
		"base/var/lib/dpkg/x": "x",
		"mid/usr/bin/tool":    "v2",
		"mid/opt/app/new":     "new",
		"top/etc/passwd":      "root:x:0:0\nuser:x:1000:1000\n",
	}
	for p, c := range files {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, p), []byte(c), 0o644))
	}
	// top deletes /etc/gone; mid makes /opt/app opaque and turns /var/lib
	// into a file.
	if err := unix.Mknod(filepath.Join(top, "etc/gone"), unix.S_IFCHR, 0); err != nil {
		fixture.Unavailable(t, fmt.Sprintf("mknod a whiteout: %v (needs root)", err))
	}
	if err := unix.Setxattr(filepath.Join(mid, "opt/app"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		fixture.Unavailable(t, fmt.Sprintf("set trusted.overlay.opaque: %v (needs root)", err))
	}
	must(t, os.WriteFile(filepath.Join(mid, "var"), []byte("file"), 0o644))

	l, err := openLowerDirs(strings.Join([]string{filepath.Join(root, "x-init/diff"), top, mid, base}, ":"))
	if err != nil {
		t.Fatalf("openLowerDirs: %v", err)
	}
	defer l.close()
	if len(l.layers) != 3 {
		t.Fatalf("%d layers, want 3 (the -init layer is Docker's)", len(l.layers))
	}
	for p, want := range map[string]string{
		"/etc/passwd":         "root:x:0:0\nuser:x:1000:1000\n",
		"/etc/gone":           "",
		"/opt/app/old":        "",
		"/opt/app/kept":       "",
		"/opt/app/new":        "new",
		"/usr/bin/tool":       "v2",
		"/var/lib/dpkg/x":     "",
		"/nowhere/at/all":     "",
		"/../../etc/passwd":   "root:x:0:0\nuser:x:1000:1000\n",
		"/etc/passwd/child":   "",
		"/usr/bin/tool/child": "",
	} {
		f, err := l.file(p, 1<<20, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got := ""
		if f != nil {
			got = string(f.content)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if f, _ := l.file("/opt/app", 1<<20, 0); f == nil || !f.isDir() {
		t.Errorf("/opt/app: %+v, want a directory", f)
	}
}
