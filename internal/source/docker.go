package source

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"
)

// OpenDocker exports an image from a Docker Engine (DOCKER_HOST or
// opts.DockerHost) and opens it as a docker-archive. The export is spooled to
// one temporary file under opts.TempDir, removed on Close: the Engine API
// streams images in an order that does not allow reading layers in place.
func OpenDocker(ctx context.Context, ref string, opts Options) (*Image, error) {
	cli, err := DockerClient(opts.DockerHost)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	inspect, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil, fmt.Errorf("docker image %s: %w (docker images lists what the engine has)", ref, ErrNotFound)
		}
		return nil, fmt.Errorf("inspect docker image %s: %w (is the Docker Engine running and DOCKER_HOST right?)", ref, err)
	}
	rc, err := cli.ImageSave(ctx, []string{inspect.ID})
	if err != nil {
		return nil, fmt.Errorf("export docker image %s: %w", ref, err)
	}
	defer rc.Close()
	dir := opts.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "docker-image-*.tar")
	if err != nil {
		return nil, fmt.Errorf("spool docker image: %w", err)
	}
	remove := func() error { return os.Remove(f.Name()) }
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		remove()
		return nil, fmt.Errorf("export docker image %s: %w", ref, err)
	}
	if err := f.Close(); err != nil {
		remove()
		return nil, err
	}
	img, err := OpenDockerArchive(f.Name())
	if err != nil {
		remove()
		return nil, err
	}
	img.Transport = Docker
	img.Name = ref
	img.RepoTags = inspect.RepoTags
	img.RepoDigests = inspect.RepoDigests
	img.closers = append(img.closers, remove)
	return img, nil
}

// DockerClient connects to the Docker Engine named by host, or by the
// environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
func DockerClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to docker engine: %w", err)
	}
	return cli, nil
}
