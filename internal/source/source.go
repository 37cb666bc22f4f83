// Package source opens what the user asked to scan: an image from a file,
// a directory, a Docker Engine or a registry, or a plain directory tree.
// Images come back as an Image whose layers can be opened as raw streams;
// the layer walker decompresses them itself (faster than go-containerregistry's
// own gzip, and without recompressing uncompressed docker-archive layers).
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Transports accepted as REF prefixes.
const (
	DockerArchive = "docker-archive"
	OCIArchive    = "oci-archive"
	OCILayout     = "oci-layout"
	Dir           = "dir"
	Docker        = "docker"
	Registry      = "registry"
)

// ErrNotFound is returned when a reference names nothing that exists.
var ErrNotFound = errors.New("not found")

// Image is an image ready to be walked layer by layer.
type Image struct {
	Ref            string   // as the user wrote it
	Transport      string   // one of the constants above
	Name           string   // a readable name: repo:tag, or the path
	RepoTags       []string // tags recorded in the source, if any
	RepoDigests    []string
	ManifestDigest string // sha256:..., when the source has a manifest
	ConfigDigest   string
	Config         *v1.ConfigFile
	// Annotations are the manifest's annotations, when the source has an
	// OCI or Docker manifest it reads.
	Annotations map[string]string
	Layers      []*Layer
	closers     []func() error
}

// Close releases files or spools the image holds.
func (img *Image) Close() error {
	var errs []error
	for i := len(img.closers) - 1; i >= 0; i-- {
		errs = append(errs, img.closers[i]())
	}
	img.closers = nil
	return errors.Join(errs...)
}

// Layer is one filesystem layer.
type Layer struct {
	Index     int
	DiffID    string // sha256 of the uncompressed tar (from the config)
	Digest    string // sha256 of the stored blob, when known
	Size      int64  // stored size, when known
	MediaType string
	CreatedBy string // history entry that created the layer
	open      func(ctx context.Context) (io.ReadCloser, error)
}

// Open returns the layer blob as stored (gzip, zstd or plain tar).
func (l *Layer) Open(ctx context.Context) (io.ReadCloser, error) {
	if l.open == nil {
		return nil, fmt.Errorf("open layer %d (%s): layer has no opener (build layers with NewLayer)", l.Index, l.DiffID)
	}
	rc, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open layer %d (%s): %w", l.Index, l.DiffID, err)
	}
	return rc, nil
}

// NewLayer builds a layer from an opener; used by sources and tests.
func NewLayer(open func(ctx context.Context) (io.ReadCloser, error)) *Layer {
	return &Layer{open: open}
}

// Options tune how images are fetched.
type Options struct {
	Platform         string   // os/arch[/variant]; default linux/<host arch>
	InsecureRegistry []string // registries reached over plain HTTP
	DockerHost       string   // overrides DOCKER_HOST
	TempDir          string   // where a docker: image is spooled
}

// Target is what a scan looks at: an image, a directory tree, or an
// inventory read from an SBOM.
type Target struct {
	Image     *Image
	Dir       string // absolute path of a directory to walk as-is
	Inventory *inventory.Inventory
	Ref       string
}

// Open resolves ref to a Target.
//
//	docker-archive:PATH  oci-archive:PATH  oci-layout:DIR[:TAG|@DIGEST]
//	dir:PATH  docker:NAME  registry/repo:tag  or a bare path (auto-detected)
func Open(ctx context.Context, ref string, opts Options) (*Target, error) {
	transport, rest := SplitTransport(ref)
	switch transport {
	case DockerArchive:
		img, err := OpenDockerArchive(rest)
		return imageTarget(ref, img, err)
	case OCIArchive:
		img, err := OpenOCIArchive(rest, opts)
		return imageTarget(ref, img, err)
	case OCILayout:
		img, err := OpenOCILayout(rest, opts)
		return imageTarget(ref, img, err)
	case Dir:
		return dirTarget(ref, rest)
	case Docker:
		img, err := OpenDocker(ctx, rest, opts)
		return imageTarget(ref, img, err)
	case Registry:
		img, err := OpenRegistry(ctx, rest, opts)
		return imageTarget(ref, img, err)
	}
	// A bare reference: a path on disk wins over a registry name.
	if fi, err := os.Stat(ref); err == nil {
		if fi.IsDir() {
			if isOCILayoutDir(ref) {
				img, err := OpenOCILayout(ref, opts)
				return imageTarget(ref, img, err)
			}
			return dirTarget(ref, ref)
		}
		img, err := openArchive(ref, opts)
		return imageTarget(ref, img, err)
	}
	if looksLikePath(ref) {
		return nil, fmt.Errorf("%s: %w: no such file or directory", ref, ErrNotFound)
	}
	img, err := OpenRegistry(ctx, ref, opts)
	return imageTarget(ref, img, err)
}

// isOCILayoutDir tells an OCI image layout from a plain directory tree by
// the two files the OCI spec requires at its root: a project checkout may
// well hold an index.json of its own.
func isOCILayoutDir(dir string) bool {
	for _, f := range []string{"oci-layout", "index.json"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// openArchive opens a tarball of either kind, told apart by its members.
func openArchive(name string, opts Options) (*Image, error) {
	idx, err := openTarIndex(name)
	if err != nil {
		if errors.Is(err, errNotTar) {
			return nil, fmt.Errorf("%s is a file but not an image archive: %w; scan a `docker save` or OCI tarball, an OCI layout directory, or a directory", name, err)
		}
		return nil, err
	}
	switch {
	case idx.has("manifest.json"):
		return dockerArchiveFromIndex(idx)
	case idx.has("index.json"):
		return ociArchiveFromIndex(idx, "", opts)
	}
	idx.Close()
	return nil, fmt.Errorf("%s is a tar archive but neither a docker-archive nor an oci-archive (no manifest.json or index.json inside)", name)
}

func imageTarget(ref string, img *Image, err error) (*Target, error) {
	if err != nil {
		return nil, err
	}
	img.Ref = ref
	return &Target{Image: img, Ref: ref}, nil
}

func dirTarget(ref, p string) (*Target, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open directory %s: %w", p, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", p)
	}
	return &Target{Dir: abs, Ref: ref}, nil
}

// SplitTransport splits ref into its transport (DockerArchive, Docker, ...;
// "" for a registry reference or a bare path) and the rest.
func SplitTransport(ref string) (string, string) {
	i := strings.Index(ref, ":")
	if i <= 0 {
		return "", ref
	}
	switch t := ref[:i]; t {
	case DockerArchive, OCIArchive, OCILayout, Dir, Docker, Registry:
		rest := ref[i+1:]
		if t == Docker || t == Registry {
			// "registry:5000/app" is a host named registry (a common
			// compose service name) with a port, not a transport.
			if isPortPath(rest) {
				return "", ref
			}
			rest = strings.TrimPrefix(rest, "//")
		}
		return t, rest
	}
	return "", ref
}

// isPortPath reports whether s starts with a port number followed by a
// repository path: "5000/app".
func isPortPath(s string) bool {
	port, _, ok := strings.Cut(s, "/")
	if !ok || port == "" {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz")
}
