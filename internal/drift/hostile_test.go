package drift

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// hookClient runs afterDiff once docker diff has answered: the container
// can then stop or vanish in the middle of a check.
type hookClient struct {
	*client.Client
	afterDiff func()
}

func (h *hookClient) ContainerDiff(ctx context.Context, id string) ([]container.FilesystemChange, error) {
	c, err := h.Client.ContainerDiff(ctx, id)
	h.afterDiff()
	return c, err
}

func TestDockerHostile(t *testing.T) {
	cli := dockerEngine(t)
	ensureImage(t, cli)
	const drop = "cp /bin/sleep /tmp/x; chmod +x /tmp/x; exec /tmp/x 300"

	t.Run("container exits mid-check", func(t *testing.T) {
		id := runContainer(t, cli, "sh", "-c", drop)
		waitExe(t, cli, id, "/tmp/x")
		h := &hookClient{Client: cli, afterDiff: func() {
			timeout := 0
			if err := cli.ContainerStop(context.Background(), id, container.StopOptions{Timeout: &timeout}); err != nil {
				t.Errorf("stop: %v", err)
			}
		}}
		res, err := Detect(context.Background(), h, id, Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("Detect: %v", err)
		}
		if !res.Partial || len(res.Warnings) == 0 {
			t.Errorf("a check whose processes vanished is not marked partial: %+v", res)
		}
		got := summarize(res.Findings)
		if !slices.Contains(got, want{KindAddedExecutable, "/tmp/x", high, ""}) {
			t.Errorf("file drift lost when the container stopped: %+v", got)
		}
	})

	for _, apiOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("container removed mid-check/api-only=%v", apiOnly), func(t *testing.T) {
			id := runContainer(t, cli, "sh", "-c", drop)
			waitExe(t, cli, id, "/tmp/x")
			h := &hookClient{Client: cli, afterDiff: func() {
				if err := cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true}); err != nil {
					t.Errorf("remove: %v", err)
				}
			}}
			_, err := Detect(context.Background(), h, id, Options{TempDir: t.TempDir(), APIOnly: apiOnly})
			if !errors.Is(err, ErrContainerGone) {
				t.Fatalf("Detect of a removed container: %v, want ErrContainerGone", err)
			}
		})
	}

	for _, apiOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("huge added files are read bounded/api-only=%v", apiOnly), func(t *testing.T) {
			// /tmp/big and /tmp/bigexe are single files; /tmp/d is an added
			// directory whose archive (300 MB) exceeds the per-directory
			// budget, so its program is read singly after the stream stops.
			const pad = 200 << 20
			id := runContainer(t, cli, "sh", "-c",
				"head -c 209715200 /dev/zero > /tmp/big; cp /bin/sleep /tmp/bigexe; head -c 209715200 /dev/zero >> /tmp/bigexe; chmod +x /tmp/bigexe; "+
					"mkdir /tmp/d; head -c 314572800 /dev/zero > /tmp/d/a-big; cp /bin/sleep /tmp/d/z-exe; exec sleep 300")
			waitExe(t, cli, id, "/usr/bin/sleep")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res, err := Detect(context.Background(), cli, id, Options{TempDir: t.TempDir(), MaxRead: 1 << 20, APIOnly: apiOnly})
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			runtime.ReadMemStats(&after)
			got := summarize(res.Findings)
			wantF := []want{{KindAddedExecutable, "/tmp/bigexe", high, ""}, {KindAddedExecutable, "/tmp/d/z-exe", high, ""}}
			if !slices.Equal(got, wantF) {
				t.Fatalf("findings %+v, want %+v", got, wantF)
			}
			f := res.Findings[0]
			if !f.Detail.Truncated || f.Detail.NewSize == nil || *f.Detail.NewSize < pad {
				t.Errorf("huge executable: %+v", f.Detail)
			}
			// 700 MB were added; allocation stays far below.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
				t.Errorf("allocated %d MB for a check bounded at 1 MB per file", alloc>>20)
			}
			t.Logf("700 MB of added files, 1 MiB read bound, files from %s: %v, %d MB allocated", res.FilesFrom, time.Since(start), (after.TotalAlloc-before.TotalAlloc)>>20)
		})
	}

	t.Run("unreadable proc", func(t *testing.T) {
		id := runContainer(t, cli, "sh", "-c", drop)
		waitExe(t, cli, id, "/tmp/x")
		res, err := Detect(context.Background(), cli, id, Options{TempDir: t.TempDir(), ProcRoot: t.TempDir() + "/nothing"})
		if err != nil {
			t.Fatalf("Detect: %v", err)
		}
		if !res.Partial || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "--proc-root") {
			t.Errorf("warnings %q partial %v: want one that names --proc-root", res.Warnings, res.Partial)
		}
		if got := summarize(res.Findings); !slices.Equal(got, []want{{KindAddedExecutable, "/tmp/x", high, ""}}) {
			t.Errorf("findings without /proc: %+v", got)
		}
	})

	t.Run("no such container", func(t *testing.T) {
		_, err := Detect(context.Background(), cli, "bulkhead-no-such-container", Options{})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		id := runContainer(t, cli, "sh", "-c", drop)
		waitExe(t, cli, id, "/tmp/x")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Detect(ctx, cli, id, Options{TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Detect: %v", err)
		}
	})
}

// TestHostDirNoEscape: a container that turns a directory of its layer into
// a link to the host's / makes the read fail, never read the host's file.
func TestHostDirNoEscape(t *testing.T) {
	root := t.TempDir()
	must(t, os.Symlink("/etc", filepath.Join(root, "etc")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(root, "passwd")))
	must(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/bin/x"), []byte("#!/bin/sh\n"), 0o755))
	h, err := openHostDir(root)
	if err != nil {
		fixture.Unavailable(t, fmt.Sprintf("openat2 unavailable: %v", err))
	}
	defer h.close()
	if f, err := h.read("/etc/passwd", 1<<20, 0); !errors.Is(err, errGone) {
		t.Errorf("read through a symlinked directory: %+v, %v", f, err)
	}
	if f, err := h.read("/../../etc/passwd", 1<<20, 0); err == nil && f.sha256 != "" {
		t.Errorf("read above the root: %+v", f)
	}
	f, err := h.read("/passwd", 1<<20, 0)
	if err != nil || !f.isLink() || f.link != "/etc/passwd" || f.sha256 != "" {
		t.Errorf("a symlink is reported as a link, not followed: %+v, %v", f, err)
	}
	f, err = h.read("/usr/bin/x", 1<<20, 0)
	if err != nil || !f.isRegular() || f.ftype != TypeScript {
		t.Errorf("regular file: %+v, %v", f, err)
	}
}

// TestDockerMountsAndInit: a program run from a bind mount is not in the
// image and says where it comes from; docker's own --init is not drift.
func TestDockerMountsAndInit(t *testing.T) {
	cli := dockerEngine(t)
	vol := t.TempDir()
	prog, err := os.ReadFile(filepath.Join(fixture.Dir(t), "rootfs-base/usr/bin/sleep"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(vol, "x"), prog, 0o755))
	init := true
	id := dockertest.RunWith(t, cli, &container.HostConfig{Binds: []string{vol + ":/data:ro"}, Init: &init}, "/data/x", "300")
	deadline := time.Now().Add(30 * time.Second)
	var res *Result
	d := New(cli, Options{TempDir: t.TempDir()})
	defer d.Close()
	for time.Now().Before(deadline) {
		res, err = d.Detect(context.Background(), id)
		if err != nil {
			t.Fatalf("Detect: %v", err)
		}
		if len(res.Findings) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := summarize(res.Findings)
	if !slices.Equal(got, []want{{KindExecNotInImage, "/data/x", high, ""}}) {
		t.Fatalf("findings %+v", got)
	}
	if !strings.Contains(res.Findings[0].Detail.Note, "/data") {
		t.Errorf("note %q does not name the mount", res.Findings[0].Detail.Note)
	}
}
