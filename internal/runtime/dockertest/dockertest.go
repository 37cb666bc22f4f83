// Package dockertest helps tests use the real Docker Engine: a client that
// fails the test under CI=true when the engine is unreachable (and skips
// otherwise), a small image imported from the fixture root filesystem, and
// containers labelled bulkhead-test=1 that are removed when the test ends.
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// Image is the tag of the test image.
const Image = "bulkhead-inventory-test:base"

// Label marks every container a test creates.
const Label = "bulkhead-test"

// Client returns a client for DOCKER_HOST (or the default socket).
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs the Docker Engine; skipped in -short mode")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		msg := "the Docker Engine is not reachable (run scripts/start-dockerd.sh): " + err.Error()
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// EnsureImage imports the fixture rootfs-base as Image unless it exists,
// and returns its id.
func EnsureImage(tb testing.TB, cli *client.Client) string {
	tb.Helper()
	ctx := context.Background()
	if ins, err := cli.ImageInspect(ctx, Image); err == nil {
		return ins.ID
	}
	dir := os.Getenv("BULKHEAD_FIXTURES")
	if dir == "" {
		dir = fixture.Dir(tb)
	}
	rootfs := filepath.Join(dir, "rootfs-base")
	if _, err := os.Stat(filepath.Join(rootfs, "bin")); err != nil {
		tb.Fatalf("fixture root filesystem %s: %v", rootfs, err)
	}
	tar := exec.Command("tar", "-C", rootfs, "-c", ".")
	out, err := tar.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := tar.Start(); err != nil {
		tb.Fatal(err)
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: out, SourceName: "-"}, Image, image.ImportOptions{})
	if err != nil {
		tar.Wait()
		tb.Fatalf("importing %s: %v", rootfs, err)
	}
	buf := make([]byte, 32<<10)
	for {
		if _, err := rc.Read(buf); err != nil {
			break
		}
	}
	rc.Close()
	if err := tar.Wait(); err != nil {
		tb.Fatalf("tar of %s: %v", rootfs, err)
	}
	ins, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		tb.Fatalf("imported image %s: %v", Image, err)
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
// (forcibly) at the end of the test, and returns its id. cfg.Image
// defaults to Image and cfg.Cmd to sleep 300.
func Create(tb testing.TB, cli *client.Client, name string, cfg *container.Config, hc *container.HostConfig) string {
	tb.Helper()
	if cfg == nil {
		cfg = &container.Config{}
	}
	if cfg.Image == "" {
		cfg.Image = Image
	}
	if len(cfg.Cmd) == 0 {
		cfg.Cmd = []string{"sleep", "300"}
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[Label] = "1"
	resp, err := cli.ContainerCreate(context.Background(), cfg, hc, &network.NetworkingConfig{}, nil, name)
	if err != nil {
		tb.Fatalf("creating container %s: %v", name, err)
	}
	tb.Cleanup(func() { Remove(cli, resp.ID) })
	return resp.ID
}

// Start starts a container.
func Start(tb testing.TB, cli *client.Client, id string) {
	tb.Helper()
	if err := cli.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
		tb.Fatalf("starting %s: %v", id, err)
	}
}

// Remove removes a container, running or not; errors are ignored (it may
// be gone already).
func Remove(cli *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
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
