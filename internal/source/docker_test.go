package source

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// dockerEngine connects to the Docker Engine named by DOCKER_HOST, or the
// default socket. Without one the test is skipped, except in CI, where
// .ci/run starts dockerd and a missing engine is a failure.
func dockerEngine(t *testing.T) *client.Client {
	t.Helper()
	cli, err := DockerClient("")
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
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// dockerLoad loads a docker-archive into the engine, as `docker load -i`.
func dockerLoad(t *testing.T, cli *client.Client, archive string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := cli.ImageLoad(ctx, f, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatalf("docker load: %v", err)
	}
	defer resp.Body.Close()
	// The engine answers with a JSON stream; errors come inside it.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var msg struct {
			Stream      string `json:"stream"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.ErrorDetail != nil {
			t.Fatalf("docker load: %s", msg.ErrorDetail.Message)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("docker load: %v", err)
	}
}

// TestDocker loads an image built here into a real dockerd and opens it by
// tag, by ID and by short ID through the Engine API export.
func TestDocker(t *testing.T) {
	cli := dockerEngine(t)
	ctx := context.Background()

	// A tag no other test run uses: the engine may be shared.
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	tag := "bulkhead.test/source:" + hex.EncodeToString(rnd[:])
	fx := buildImage(t, "amd64", plain, plain, plain)
	dockerLoad(t, cli, writeDockerArchive(t, fx, tag))
	t.Cleanup(func() {
		if _, err := cli.ImageRemove(context.Background(), tag, image.RemoveOptions{PruneChildren: true}); err != nil {
			t.Logf("remove %s: %v", tag, err)
		}
	})
	inspect, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatalf("inspect %s after load: %v", tag, err)
	}
	if inspect.ID != fx.configDigest {
		t.Fatalf("engine image ID %s, want the config digest %s", inspect.ID, fx.configDigest)
	}

	spool := t.TempDir()
	tests := []struct {
		name string
		ref  string
	}{
		{name: "tag", ref: tag},
		{name: "transport prefix", ref: "docker:" + tag},
		{name: "ID", ref: inspect.ID},
		{name: "short ID", ref: strings.TrimPrefix(inspect.ID, "sha256:")[:12]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := Open(ctx, "docker:"+strings.TrimPrefix(tt.ref, "docker:"), Options{TempDir: spool})
			if err != nil {
				t.Fatalf("open docker:%s: %v", tt.ref, err)
			}
			img := target.Image
			checkImage(t, img, fx, fx.wantView(Docker, false, false))
			if img.Name != strings.TrimPrefix(tt.ref, "docker:") {
				t.Errorf("Name = %q, want %q", img.Name, tt.ref)
			}
			if len(img.RepoTags) != 1 || img.RepoTags[0] != tag {
				t.Errorf("RepoTags = %q, want [%s]", img.RepoTags, tag)
			}
			if err := img.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("spool directory holds %d files after Close, want none", len(left))
			}
		})
	}

	t.Run("unknown image", func(t *testing.T) {
		_, err := OpenDocker(ctx, "bulkhead.test/does-not-exist:"+hex.EncodeToString(rnd[:]), Options{TempDir: spool})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("error %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), "docker images lists what the engine has") {
			t.Errorf("error %q does not say what to do", err)
		}
	})
}

// TestDockerUnreachable points at a socket nobody serves.
func TestDockerUnreachable(t *testing.T) {
	_, err := OpenDocker(context.Background(), "alpine", Options{DockerHost: "unix://" + t.TempDir() + "/nobody.sock"})
	if err == nil || !strings.Contains(err.Error(), "is the Docker Engine running and DOCKER_HOST right?") {
		t.Errorf("error %v, want one that says to check the engine", err)
	}
}
