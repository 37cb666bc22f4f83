package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// OpenRegistry resolves ref against its registry, with credentials from the
// Docker config and credential helpers. Layers are streamed from the
// registry when walked.
func OpenRegistry(ctx context.Context, ref string, opts Options) (*Image, error) {
	var nameOpts []name.Option
	if insecure(ref, opts.InsecureRegistry) {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("parse image reference %q: %w (use docker-archive:, oci-layout:, oci-archive:, dir: or docker: for local images)", ref, err)
	}
	p, err := parsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(*p),
	}
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("fetch %s: %w: %w", r, ErrNotFound, err)
		}
		return nil, fmt.Errorf("fetch %s: %w", r, err)
	}
	ri, err := registryImage(desc, opts.Platform)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", r, err)
	}
	cfg, err := ri.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config of %s: %w", r, err)
	}
	cfgName, err := ri.ConfigName()
	if err != nil {
		return nil, err
	}
	digest, err := ri.Digest()
	if err != nil {
		return nil, err
	}
	layers, err := ri.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers of %s: %w", r, err)
	}
	img := &Image{
		Transport:      Registry,
		Name:           r.String(),
		RepoDigests:    []string{r.Context().Digest(digest.String()).String()},
		ManifestDigest: digest.String(),
		ConfigDigest:   cfgName.String(),
		Config:         cfg,
	}
	if t, ok := r.(name.Tag); ok {
		img.RepoTags = []string{t.Name()}
	}
	if m, err := ri.Manifest(); err == nil {
		img.Annotations = m.Annotations
	}
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("%s: config lists %d layers, manifest %d: the image is inconsistent", r, len(cfg.RootFS.DiffIDs), len(layers))
	}
	for i, rl := range layers {
		rl := rl
		l := &Layer{Index: i}
		if d, err := rl.Digest(); err == nil {
			l.Digest = d.String()
		}
		if d, err := rl.DiffID(); err == nil {
			l.DiffID = d.String()
		}
		if s, err := rl.Size(); err == nil {
			l.Size = s
		}
		if mt, err := rl.MediaType(); err == nil {
			l.MediaType = string(mt)
		}
		l.open = func(context.Context) (io.ReadCloser, error) { return rl.Compressed() }
		img.Layers = append(img.Layers, l)
	}
	applyHistory(cfg, img.Layers)
	return img, nil
}

// registryImage resolves what the registry returned to one image: an index
// is resolved to the manifest for the wanted platform, with the same rules
// and error (listing the platforms there are) as for OCI layouts.
func registryImage(desc *remote.Descriptor, platform string) (v1.Image, error) {
	switch {
	case desc.MediaType.IsSchema1():
		return nil, fmt.Errorf("a Docker schema 1 manifest, which is not supported; push the image again with a current client")
	case !desc.MediaType.IsIndex():
		return desc.Image()
	}
	ii, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	for depth := 0; depth <= 4; depth++ {
		im, err := ii.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		d, err := selectPlatform(im.Manifests, platform)
		if err != nil {
			return nil, err
		}
		if !d.MediaType.IsIndex() {
			return ii.Image(d.Digest)
		}
		if ii, err = ii.ImageIndex(d.Digest); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("image indexes nested too deep")
}

// insecure reports whether ref's registry is one the user allowed to be
// reached over plain HTTP ("host:port", optionally written as a URL).
func insecure(ref string, registries []string) bool {
	host := ref
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	for _, r := range registries {
		r = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(r, "http://"), "https://"), "/")
		if r == host || r == "*" {
			return true
		}
	}
	return false
}
