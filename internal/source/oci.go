package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// blobStore reads the files of an OCI image layout, from a directory or from
// inside an oci-archive tarball.
type blobStore interface {
	open(name string) (io.ReadCloser, error)
	readAll(name string, limit int64) ([]byte, error)
	stat(name string) (int64, error) // size of a blob that exists
}

type dirStore struct{ root string }

func (d dirStore) path(name string) (string, error) {
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("blob %s escapes the layout", name)
	}
	return filepath.Join(d.root, rel), nil
}

func (d dirStore) open(name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

func (d dirStore) readAll(name string, limit int64) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is more than the %d bytes allowed", name, limit)
	}
	return b, nil
}

func (d dirStore) stat(name string) (int64, error) {
	p, err := d.path(name)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", name)
	}
	return fi.Size(), nil
}

func (t *tarIndex) stat(name string) (int64, error) {
	m, err := t.lookup(name)
	if err != nil {
		return 0, err
	}
	return m.size, nil
}

// OpenOCILayout opens DIR, DIR:TAG or DIR@DIGEST.
func OpenOCILayout(ref string, opts Options) (*Image, error) {
	dir, sel := splitLayoutRef(ref)
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, fmt.Errorf("open oci-layout %s: no index.json: %w", dir, err)
	}
	img, err := ociImage(dirStore{root: dir}, sel, opts)
	if err != nil {
		return nil, fmt.Errorf("open oci-layout %s: %w", dir, err)
	}
	img.Transport = OCILayout
	if img.Name == "" {
		img.Name = dir
	}
	return img, nil
}

// OpenOCIArchive opens a tarball of an OCI image layout (PATH, PATH:TAG).
func OpenOCIArchive(ref string, opts Options) (*Image, error) {
	file, sel := splitLayoutRef(ref)
	idx, err := openTarIndex(file)
	if err != nil {
		return nil, fmt.Errorf("open oci-archive: %w", err)
	}
	return ociArchiveFromIndex(idx, sel, opts)
}

// ociArchiveFromIndex opens the image of an indexed archive; it owns idx
// from then on (closed on error, or by Image.Close).
func ociArchiveFromIndex(idx *tarIndex, sel string, opts Options) (*Image, error) {
	img, err := ociImage(idx, sel, opts)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("open oci-archive %s: %w", idx.name, err)
	}
	img.Transport = OCIArchive
	if img.Name == "" {
		img.Name = idx.name
	}
	img.closers = append(img.closers, idx.Close)
	return img, nil
}

// splitLayoutRef splits "DIR:TAG" and "DIR@sha256:..." while allowing
// colons in directory names that exist on disk, and full reference names as
// tags ("DIR:registry.example/app:1.0").
func splitLayoutRef(ref string) (string, string) {
	if _, err := os.Stat(ref); err == nil {
		return ref, ""
	}
	// The longest prefix that exists on disk is the path.
	for i := len(ref) - 1; i > 0; i-- {
		if ref[i] != ':' && ref[i] != '@' {
			continue
		}
		if _, err := os.Stat(ref[:i]); err != nil {
			continue
		}
		if ref[i] == '@' {
			return ref[:i], ref[i:]
		}
		return ref[:i], ref[i+1:]
	}
	// Nothing exists: split as written, for the error message.
	if i := strings.LastIndex(ref, "@"); i > 0 {
		return ref[:i], ref[i:]
	}
	if i := strings.LastIndex(ref, ":"); i > 0 && !strings.Contains(ref[i:], "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

const refNameAnnotation = "org.opencontainers.image.ref.name"

func ociImage(store blobStore, sel string, opts Options) (*Image, error) {
	raw, err := store.readAll("index.json", maxMetadata)
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse index.json: %w", err)
	}
	desc, err := selectDescriptor(index.Manifests, sel, opts.Platform)
	if err != nil {
		return nil, err
	}
	name := desc.Annotations[refNameAnnotation]
	// Descend through nested indexes to one platform's manifest.
	for depth := 0; desc.MediaType.IsIndex(); depth++ {
		if depth > 4 {
			return nil, fmt.Errorf("image indexes nested too deep")
		}
		raw, err := store.readAll(blobPath(desc.Digest), maxMetadata)
		if err != nil {
			return nil, err
		}
		child, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parse index %s: %w", desc.Digest, err)
		}
		desc, err = selectPlatform(child.Manifests, opts.Platform)
		if err != nil {
			return nil, err
		}
	}
	if desc.MediaType.IsSchema1() {
		return nil, fmt.Errorf("manifest %s is a Docker schema 1 manifest, which is not supported; convert the image (e.g. docker pull and docker save)", desc.Digest)
	}
	rawManifest, err := store.readAll(blobPath(desc.Digest), maxMetadata)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", desc.Digest, err)
	}
	if m.Config.Digest.Hex == "" {
		return nil, fmt.Errorf("manifest %s names no config blob", desc.Digest)
	}
	if mt := m.Config.MediaType; mt != "" && !mt.IsConfig() {
		return nil, fmt.Errorf("manifest %s is not a container image (config media type %s)", desc.Digest, mt)
	}
	rawCfg, err := store.readAll(blobPath(m.Config.Digest), maxMetadata)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config lists %d layers, manifest %d", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	img := &Image{
		Name:           name,
		ManifestDigest: desc.Digest.String(),
		ConfigDigest:   m.Config.Digest.String(),
		Config:         cfg,
		Annotations:    m.Annotations,
	}
	if name != "" {
		img.RepoTags = []string{name}
	}
	for i, ld := range m.Layers {
		if ld.Digest.Hex == "" {
			return nil, fmt.Errorf("manifest %s: layer %d has no digest", desc.Digest, i)
		}
		p := blobPath(ld.Digest)
		// Every layer must be there now: a scan that fails half-way
		// through the layers helps nobody.
		size, err := store.stat(p)
		if err != nil {
			if len(ld.URLs) > 0 {
				return nil, fmt.Errorf("layer %d (%s) is a foreign layer, kept at %s and not in the image; bulkhead does not download foreign layers", i, ld.Digest, ld.URLs[0])
			}
			return nil, fmt.Errorf("layer %d (%s) is missing from the layout: %w", i, ld.Digest, err)
		}
		l := &Layer{Index: i, DiffID: cfg.RootFS.DiffIDs[i].String(), Digest: ld.Digest.String(), Size: ld.Size, MediaType: string(ld.MediaType)}
		if l.Size == 0 {
			l.Size = size
		}
		l.open = func(context.Context) (io.ReadCloser, error) { return store.open(p) }
		img.Layers = append(img.Layers, l)
	}
	applyHistory(cfg, img.Layers)
	return img, nil
}

func selectDescriptor(ds []v1.Descriptor, sel, platform string) (v1.Descriptor, error) {
	if len(ds) == 0 {
		return v1.Descriptor{}, fmt.Errorf("index.json lists no manifest")
	}
	switch {
	case strings.HasPrefix(sel, "@"):
		for _, d := range ds {
			if d.Digest.String() == sel[1:] {
				return d, nil
			}
		}
		return v1.Descriptor{}, fmt.Errorf("no manifest with digest %s: %w", sel[1:], ErrNotFound)
	case sel != "":
		for _, d := range ds {
			if n := d.Annotations[refNameAnnotation]; n == sel || strings.HasSuffix(n, ":"+sel) {
				return d, nil
			}
		}
		return v1.Descriptor{}, fmt.Errorf("no manifest tagged %q: %w", sel, ErrNotFound)
	}
	if len(ds) == 1 {
		return ds[0], nil
	}
	// Several entries: a platform choice among image manifests, or several
	// images the user has to choose from.
	for _, d := range ds {
		if d.Platform != nil {
			return selectPlatform(ds, platform)
		}
	}
	var images []v1.Descriptor
	for _, d := range ds {
		if d.MediaType.IsImage() || d.MediaType.IsIndex() {
			images = append(images, d)
		}
	}
	if len(images) == 1 {
		return images[0], nil
	}
	if len(images) == 0 {
		return v1.Descriptor{}, fmt.Errorf("index.json lists no image manifest or index")
	}
	var choices []string
	for _, d := range images {
		if n := d.Annotations[refNameAnnotation]; n != "" {
			choices = append(choices, ":"+n)
		} else {
			choices = append(choices, "@"+d.Digest.String())
		}
	}
	return v1.Descriptor{}, fmt.Errorf("the layout holds %d images; choose one by appending %s to the path", len(images), strings.Join(choices, " or "))
}

// selectPlatform picks the manifest for the wanted platform (default
// linux/<host arch>).
func selectPlatform(ds []v1.Descriptor, want string) (v1.Descriptor, error) {
	p, err := parsePlatform(want)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if len(ds) == 0 {
		return v1.Descriptor{}, fmt.Errorf("the image index lists no manifest")
	}
	var seen []string
	for _, d := range ds {
		if d.Platform == nil {
			continue
		}
		if d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown" {
			continue // an attestation or signature, not an image
		}
		seen = append(seen, d.Platform.String())
		if d.Platform.Satisfies(*p) {
			return d, nil
		}
	}
	// Entries without a platform (attestations carry unknown/unknown) are
	// never chosen when any platform is listed.
	if len(seen) == 0 {
		for _, d := range ds {
			if d.MediaType == types.OCIManifestSchema1 || d.MediaType == types.DockerManifestSchema2 || d.MediaType.IsIndex() {
				return d, nil
			}
		}
		return ds[0], nil
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s (the index has %s); choose one with --platform", p, strings.Join(seen, ", "))
}

func parsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil, fmt.Errorf("parse --platform %q: %w", s, err)
	}
	return p, nil
}
