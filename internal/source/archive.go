package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxMetadata bounds manifests, indexes and configs read into memory.
const maxMetadata = 16 << 20

type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// OpenDockerArchive opens a `docker save` tarball. Its layers are read in
// place from the file.
func OpenDockerArchive(name string) (*Image, error) {
	idx, err := openTarIndex(name)
	if err != nil {
		return nil, fmt.Errorf("open docker-archive: %w", err)
	}
	return dockerArchiveFromIndex(idx)
}

// dockerArchiveFromIndex opens the image of an indexed archive; it owns idx
// from then on (closed on error, or by Image.Close).
func dockerArchiveFromIndex(idx *tarIndex) (*Image, error) {
	img, err := dockerArchiveImage(idx)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("open docker-archive %s: %w", idx.name, err)
	}
	img.Transport = DockerArchive
	img.closers = append(img.closers, idx.Close)
	return img, nil
}

func dockerArchiveImage(idx *tarIndex) (*Image, error) {
	raw, err := idx.readAll("manifest.json", maxMetadata)
	if err != nil {
		return nil, err
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("parse manifest.json: %w (is this a `docker save` archive?)", err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("manifest.json lists no image")
	}
	// An archive of several images: the first is scanned, as docker load
	// would list it first.
	m := entries[0]
	if m.Config == "" {
		return nil, fmt.Errorf("manifest.json names no config for its first image")
	}
	rawCfg, err := idx.readAll(m.Config, maxMetadata)
	if err != nil {
		return nil, fmt.Errorf("read config named in manifest.json: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", m.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config lists %d layers, manifest.json %d: the archive is inconsistent", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	cfgDigest, _, _ := v1.SHA256(bytes.NewReader(rawCfg))
	img := &Image{
		Name:         name0(m.RepoTags),
		RepoTags:     m.RepoTags,
		ConfigDigest: cfgDigest.String(),
		Config:       cfg,
	}
	for i, p := range m.Layers {
		member := p
		// Every layer must be there now: a scan that fails half-way
		// through the layers helps nobody.
		mm, err := idx.lookup(member)
		if err != nil {
			return nil, fmt.Errorf("layer %d named in manifest.json: %w", i, err)
		}
		l := &Layer{
			Index:     i,
			DiffID:    cfg.RootFS.DiffIDs[i].String(),
			Size:      mm.size,
			MediaType: "application/vnd.docker.image.rootfs.diff.tar",
		}
		// Docker 25+ stores layers as OCI blobs, named by their digest.
		if hex, ok := strings.CutPrefix(cleanMember(member), "blobs/sha256/"); ok {
			if d, err := v1.NewHash("sha256:" + hex); err == nil {
				l.Digest = d.String()
			}
		}
		l.open = func(context.Context) (io.ReadCloser, error) { return idx.open(member) }
		img.Layers = append(img.Layers, l)
	}
	applyHistory(cfg, img.Layers)
	return img, nil
}

func name0(tags []string) string {
	if len(tags) > 0 {
		return tags[0]
	}
	return ""
}

// applyHistory gives each layer the history entry that created it: history
// entries marked empty_layer made no layer.
func applyHistory(cfg *v1.ConfigFile, layers []*Layer) {
	i := 0
	for _, h := range cfg.History {
		if h.EmptyLayer {
			continue
		}
		if i >= len(layers) {
			return
		}
		layers[i].CreatedBy = h.CreatedBy
		i++
	}
}
