// Package dockertest gives tests the real Docker Engine: a client that
// fails the test under CI=true when no engine answers (and skips it
// otherwise), an image imported from the Debian fixture root filesystem,
// and containers labelled bulkhead-test=1 that are removed, by their own
// id, when the test ends (other packages' tests share the engine and the
// label, so nothing is ever removed by label).
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// Image is the tag the fixture root filesystem (Debian 12, rootfs-base) is
// imported as.
const Image = "bulkhead-test:base"

// Label marks every container a test creates.
const Label = "bulkhead-test"

// Client connects to DOCKER_HOST (or the local socket) and pings it.
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs the Docker Engine; skipped in -short mode")
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.Ping(ctx)
		cancel()
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		msg := fmt.Sprintf("no Docker Engine: %v (.ci/run starts one with scripts/start-dockerd.sh)", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

var importMu sync.Mutex

// EnsureImage imports the fixture root filesystem as Image unless the
// engine has it (docker import of a tar of rootfs-base) and returns the
// image's id.
func EnsureImage(tb testing.TB, c *client.Client) string {
	tb.Helper()
	importMu.Lock()
	defer importMu.Unlock()
	ctx := context.Background()
	if ins, err := c.ImageInspect(ctx, Image); err == nil {
		return ins.ID
	}
	root := filepath.Join(fixture.Dir(tb), "rootfs-base")
	tar := exec.Command("tar", "-C", root, "-c", ".")
	out, err := tar.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := tar.Start(); err != nil {
		tb.Fatalf("tar %s: %v", root, err)
	}
	rc, err := c.ImageImport(ctx, image.ImportSource{Source: out, SourceName: "-"}, Image, image.ImportOptions{})
	if err != nil {
		tar.Wait()
		tb.Fatalf("docker import: %v", err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	if err := tar.Wait(); err != nil {
		tb.Fatalf("tar %s: %v", root, err)
	}
	ins, err := c.ImageInspect(ctx, Image)
	if err != nil {
		tb.Fatalf("image %s missing after import: %v", Image, err)
	}
	return ins.ID
}

// Name returns a unique container name with prefix.
func Name(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Create creates a container (not started) with the test label, removed
// at the end of the test, and returns its id. cfg.Image defaults to Image
// (imported if needed) and cfg.Cmd to sleep 300.
func Create(tb testing.TB, c *client.Client, name string, cfg *container.Config, hc *container.HostConfig) string {
	tb.Helper()
	if cfg == nil {
		cfg = &container.Config{}
	}
	if cfg.Image == "" {
		EnsureImage(tb, c)
		cfg.Image = Image
	}
	if len(cfg.Cmd) == 0 {
		cfg.Cmd = []string{"sleep", "300"}
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[Label] = "1"
	Remove(c, name) // a leftover of an interrupted run
	resp, err := c.ContainerCreate(context.Background(), cfg, hc, &network.NetworkingConfig{}, nil, name)
	if err != nil {
		tb.Fatalf("create container %s: %v", name, err)
	}
	tb.Cleanup(func() { Remove(c, resp.ID) })
	return resp.ID
}

// Start starts a container.
func Start(tb testing.TB, c *client.Client, id string) {
	tb.Helper()
	if err := c.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
		tb.Fatalf("start %s: %v", id, err)
	}
}

// Run creates and starts a container of Image running cmd.
func Run(tb testing.TB, c *client.Client, cmd ...string) string {
	tb.Helper()
	return RunWith(tb, c, &container.HostConfig{}, cmd...)
}

// RunWith is Run with a host configuration (mounts, --init, limits).
func RunWith(tb testing.TB, c *client.Client, hc *container.HostConfig, cmd ...string) string {
	tb.Helper()
	id := Create(tb, c, "", &container.Config{Cmd: cmd}, hc)
	Start(tb, c, id)
	return id
}

// Remove removes a container, running or not; errors are ignored (it may
// be gone already).
func Remove(c *client.Client, id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
}

// WaitExe waits until the container's init process runs exe (its script
// has done its work and exec'd its last program) and returns its PID.
func WaitExe(tb testing.TB, c *client.Client, id, exe string) int {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		info, err := c.ContainerInspect(context.Background(), id)
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

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
