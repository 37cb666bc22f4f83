// Package dockertest runs tests against the real Docker Engine: it
// connects (failing under CI=true when no engine answers, skipping
// otherwise), imports the fixture rootfs as an image, and starts labelled
// containers that are removed when the test ends.
package dockertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// Image is the fixture rootfs-base (Debian 12) imported into the engine.
const Image = "bulkhead-drift-test:base"

// Label marks every container the tests create.
const Label = "bulkhead-test"

// Engine connects to DOCKER_HOST or the default socket. Without an engine
// the test is skipped, except in CI, where it fails.
func Engine(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := source.DockerClient("")
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err = cli.Ping(ctx); err != nil {
			cli.Close()
		}
	}
	if err != nil {
		msg := "dockerd not reachable: .ci/run must start it (scripts/start-dockerd.sh starts one): " + err.Error()
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

var (
	imageOnce sync.Once
	imageErr  error
)

// EnsureImage imports the fixture rootfs as Image once per test binary,
// as `tar -C rootfs-base -c . | docker import - Image`.
func EnsureImage(tb testing.TB, cli *client.Client) {
	tb.Helper()
	dir := filepath.Join(fixture.Dir(tb), "rootfs-base")
	imageOnce.Do(func() { imageErr = importDir(cli, dir, Image) })
	if imageErr != nil {
		tb.Fatalf("build test image: %v", imageErr)
	}
}

func importDir(cli *client.Client, dir, ref string) error {
	tar := exec.Command("tar", "-C", dir, "-c", ".")
	out, err := tar.StdoutPipe()
	if err != nil {
		return err
	}
	if err := tar.Start(); err != nil {
		return err
	}
	rc, err := cli.ImageImport(context.Background(), image.ImportSource{Source: out, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		tar.Wait()
		return fmt.Errorf("docker import: %w", err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if werr := tar.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("tar: %w", werr)
	}
	return err
}

// Run starts a labelled container of Image running cmd and removes it
// when the test ends.
func Run(tb testing.TB, cli *client.Client, cmd ...string) string {
	tb.Helper()
	return RunWith(tb, cli, &container.HostConfig{}, cmd...)
}

// RunWith is Run with a host configuration (mounts, --init, limits).
func RunWith(tb testing.TB, cli *client.Client, hc *container.HostConfig, cmd ...string) string {
	tb.Helper()
	EnsureImage(tb, cli)
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx, &container.Config{
		Image:  Image,
		Cmd:    cmd,
		Labels: map[string]string{Label: "1"},
	}, hc, nil, nil, "")
	if err != nil {
		tb.Fatalf("create container: %v", err)
	}
	tb.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		tb.Fatalf("start container: %v", err)
	}
	return c.ID
}

// WaitExe waits until the container's init process runs exe (the
// container's script has done its work and exec'd its last program) and
// returns its PID.
func WaitExe(tb testing.TB, cli *client.Client, id, exe string) int {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		info, err := cli.ContainerInspect(context.Background(), id)
		if err != nil {
			tb.Fatalf("inspect: %v", err)
		}
		if info.State != nil && !info.State.Running && info.State.ExitCode != 0 {
			tb.Fatalf("container exited with %d", info.State.ExitCode)
		}
		if info.State != nil && info.State.Pid > 0 {
			if got, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(info.State.Pid), "exe")); err == nil && got == exe {
				return info.State.Pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("container %s never ran %s", id[:12], exe)
	return 0
}
