package vulndb

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestImportLargeExport imports a big export and reports peak memory; the
// budget is 300 MB of RSS whatever the export size. Run it on the export
// TestGenerateExport writes, under /usr/bin/time -v for an outside view:
//
//	go test -c -o /tmp/vulndb.test ./internal/vulndb
//	BULKHEAD_LARGE_EXPORT=/tmp/big.zip /usr/bin/time -v /tmp/vulndb.test -test.run TestImportLargeExport -test.v
func TestImportLargeExport(t *testing.T) {
	path := os.Getenv("BULKHEAD_LARGE_EXPORT")
	if path == "" {
		t.Skip("set BULKHEAD_LARGE_EXPORT to a zip made by TestGenerateExport")
	}
	dir := os.Getenv("BULKHEAD_LARGE_CACHE")
	if dir == "" {
		dir = t.TempDir()
	}
	start := time.Now()
	st, err := Import(context.Background(), dir, []string{path}, ImportOptions{Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fi, _ := os.Stat(Path(dir))
	t.Logf("%d records (%d MB of JSON) in %v: peak RSS %d MB, Go heap peak (HeapSys) %d MB, allocated in total %d MB, DB %d MB",
		st.Records, st.BytesRead>>20, time.Since(start).Round(time.Millisecond), ru.Maxrss>>10, ms.HeapSys>>20, ms.TotalAlloc>>20, fi.Size()>>20)
	if ru.Maxrss<<10 > 300<<20 {
		t.Errorf("peak RSS %d MB, budget 300 MB", ru.Maxrss>>10)
	}
	db := openDB(t, dir)
	start = time.Now()
	vs, err := db.Lookup(context.Background(), "PyPI", "pkg-7") // genRecord(1) names it
	t.Logf("Lookup(PyPI, pkg-7): %d advisories in %v (%v)", len(vs), time.Since(start), err)
}

// cpuTime is the user+system CPU time of the process so far: what a
// benchmark costs regardless of how loaded the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
