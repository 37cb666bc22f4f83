package vulndb

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	dir := t.TempDir()
	start := time.Now()
	st, err := Import(context.Background(), dir, []string{"/work/shared/osv-sample"}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v %+v", time.Since(start), st)
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := db.Lookup(context.Background(), "PyPI", "Django")
	t.Log(len(vs), err)
	s, _ := db.Status(context.Background())
	t.Logf("%+v", s)
	start = time.Now()
	st, err = Import(context.Background(), dir, []string{"/work/shared/osv-sample"}, ImportOptions{})
	t.Logf("%v %+v %v", time.Since(start), st, err)
}
