package source

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
		return nil, fmt.Errorf("fetch %s: %w", r, err)
	}
	ri, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("resolve %s for platform %s: %w", r, p, err)
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
		RepoTags:       []string{r.Name()},
		RepoDigests:    []string{r.Context().Digest(digest.String()).String()},
		ManifestDigest: digest.String(),
		ConfigDigest:   cfgName.String(),
		Config:         cfg,
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


func insecure(ref string, registries []string) bool {
	host := ref
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	for _, r := range registries {
		if r == host || r == "*" {
			return true
		}
	}
	return false
}
