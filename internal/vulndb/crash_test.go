package vulndb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A writer killed with SIGKILL in the middle of an import leaves the old DB
// in use and a leftover that the next writer removes.
func TestCrashMidImport(t *testing.T) {
	if os.Getenv("VULNDB_CRASH_CHILD") != "" {
		// The child: import until killed.
		_, err := Import(context.Background(), os.Getenv("VULNDB_CACHE"), []string{os.Getenv("VULNDB_ZIP")}, ImportOptions{})
		t.Fatalf("the import finished before it was killed (%v)", err)
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	if testing.Short() {
		t.Skip("writes a 60,000-record export")
	}
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "OLD-1", pkgs: []string{"npm/old"}}))
	before, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "all.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := genExport(f, 60_000); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidImport$")
	cmd.Env = append(os.Environ(), "VULNDB_CRASH_CHILD=1", "VULNDB_CACHE="+dir, "VULNDB_ZIP="+zipPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the new DB has grown well past the copy of the old one.
	deadline := time.Now().Add(2 * time.Minute)
	var leftover string
	for leftover == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		matches, _ := filepath.Glob(filepath.Join(dir, "db", tempPrefix+"*"))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Size() > int64(len(before))+4<<20 {
				leftover = m
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if leftover == "" {
		t.Fatal("never saw the new DB grow; the child did not get far enough")
	}
	t.Logf("killed with %s at %d bytes", filepath.Base(leftover), fileSize(leftover))

	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("the half-built DB is gone (%v): the kill came too late to test anything", err)
	}
	after, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("the DB in use changed")
	}
	db := openDB(t, dir)
	if got := lookupIDs(t, db, "npm", "old"); !cmp.Equal(got, []string{"OLD-1"}) {
		t.Errorf("Lookup(npm, old) = %v", got)
	}
	if v, _ := db.Get(context.Background(), "GEN-0000001"); v != nil {
		t.Error("a record of the killed import is visible")
	}

	// The next writer removes the leftover.
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "NEW-1", pkgs: []string{"npm/new"}}))
	for _, f := range dbFiles(t, dir) {
		if strings.HasPrefix(f, tempPrefix) {
			t.Errorf("leftover %s survived the next import", f)
		}
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}
