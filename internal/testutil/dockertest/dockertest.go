// Package dockertest gives tests a real Docker Engine: a client, an image
// imported from the Debian fixture root filesystem, and containers that
// are removed when the test ends. Without an engine the test fails when
// CI=true and is skipped otherwise.
package dockertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// Image is the tag the fixture root filesystem is imported as.
const Image = "bulkhead-audit-test:base"

// Label marks every container a test creates.
const Label = "bulkhead-test"

// Client connects to DOCKER_HOST (or the local socket) and pings it.
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.Ping(ctx)
		cancel()
	}
	if err != nil {
		msg := fmt.Sprintf("no Docker Engine: %v (start one with scripts/start-dockerd.sh)", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

var importMu sync.Mutex

// EnsureImage imports the fixture root filesystem as Image once
// (docker import of a tar of rootfs-base) and returns its tag.
func EnsureImage(tb testing.TB, c *client.Client) string {
	tb.Helper()
	importMu.Lock()
	defer importMu.Unlock()
	ctx := context.Background()
	if _, err := c.ImageInspect(ctx, Image); err == nil {
		return Image
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
	if _, err := c.ImageInspect(ctx, Image); err != nil {
		tb.Fatalf("image %s missing after import: %v", Image, err)
	}
	return Image
}

// Create creates (does not start) a container labelled bulkhead-test=1
// and removes it, forcibly, when the test ends.
func Create(tb testing.TB, c *client.Client, name string, cfg *container.Config, hc *container.HostConfig) string {
	tb.Helper()
	if cfg.Image == "" {
		cfg.Image = EnsureImage(tb, c)
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[Label] = "1"
	if len(cfg.Cmd) == 0 {
		cfg.Cmd = []string{"sleep", "300"}
	}
	ctx := context.Background()
	_ = c.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	resp, err := c.ContainerCreate(ctx, cfg, hc, &network.NetworkingConfig{}, nil, name)
	if err != nil {
		tb.Fatalf("create container %s: %v", name, err)
	}
	tb.Cleanup(func() { Remove(c, resp.ID) })
	return resp.ID
}

// Start starts a created container.
func Start(tb testing.TB, c *client.Client, id string) {
	tb.Helper()
	if err := c.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
		tb.Fatalf("start container %.12s: %v", id, err)
	}
}

// Remove force-removes a container, ignoring errors.
func Remove(c *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
}
