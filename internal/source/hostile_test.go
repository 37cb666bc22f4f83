package source

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// hostileBase returns the members of a valid one-layer docker-archive,
// written by hand, and its config, for the cases below to spoil.
func hostileBase(t *testing.T) (cfg []byte, layerTar []byte) {
	t.Helper()
	layerTar = writeTar(t, []tarEntry{{name: "etc/os-release", body: "ID=test\n"}})
	cfg = mustJSON(t, v1.ConfigFile{
		OS: "linux", Architecture: "amd64",
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustHash(t, sha256Hex(layerTar))}},
		History: []v1.History{{CreatedBy: "ADD x /"}},
	})
	return cfg, layerTar
}

// blocks rounds n up to whole tar blocks.
func blocks(n int) int { return (n + 511) / 512 * 512 }

func mustHash(t testing.TB, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func manifestJSON(t *testing.T, config string, layers ...string) string {
	return string(mustJSON(t, []dockerManifestEntry{{Config: config, RepoTags: []string{"hostile:1"}, Layers: layers}}))
}

// TestHostileDockerArchives feeds archives an attacker or a broken tool
// could produce. Each must fail with a clear error, and never panic, hang
// or read outside the archive.
func TestHostileDockerArchives(t *testing.T) {
	cfg, lt := hostileBase(t)
	twoLayerCfg := mustJSON(t, v1.ConfigFile{RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustHash(t, sha256Hex(lt)), mustHash(t, sha256Hex(lt))}}})
	valid := writeTar(t, []tarEntry{
		{name: "config.json", body: string(cfg)},
		{name: "layer.tar", body: string(lt)},
		{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
	})

	tests := []struct {
		name    string
		archive []byte
		wantErr string // "" means the archive opens
		notFnd  bool
	}{
		{name: "valid", archive: valid},
		{
			name: "config path escapes the archive",
			archive: writeTar(t, []tarEntry{
				{name: "layer.tar", body: string(lt)},
				{name: "manifest.json", body: manifestJSON(t, "../../etc/passwd", "layer.tar")},
			}),
			wantErr: "member ../../etc/passwd: not found", notFnd: true,
		},
		{
			name: "layer path escapes the archive",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "../../../../etc/passwd")},
			}),
			wantErr: "layer 0 named in manifest.json", notFnd: true,
		},
		{
			name: "absolute layer path",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "/etc/passwd")},
			}),
			wantErr: "member /etc/passwd: not found", notFnd: true,
		},
		{
			name: "layer member missing",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "gone/layer.tar")},
			}),
			wantErr: "member gone/layer.tar: not found", notFnd: true,
		},
		{
			name: "config member missing",
			archive: writeTar(t, []tarEntry{
				{name: "layer.tar", body: string(lt)},
				{name: "manifest.json", body: manifestJSON(t, "cafe.json", "layer.tar")},
			}),
			wantErr: "read config named in manifest.json", notFnd: true,
		},
		{
			name: "no config named",
			archive: writeTar(t, []tarEntry{
				{name: "manifest.json", body: manifestJSON(t, "")},
			}),
			wantErr: "manifest.json names no config",
		},
		{
			name: "symlink loop",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "a/layer.tar", typ: tar.TypeSymlink, link: "../b/layer.tar"},
				{name: "b/layer.tar", typ: tar.TypeSymlink, link: "/a/layer.tar"},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "a/layer.tar")},
			}),
			wantErr: "member a/layer.tar: too many links",
		},
		{
			name: "hardlink to itself",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "layer.tar", typ: tar.TypeLink, link: "layer.tar"},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
			}),
			wantErr: "too many links",
		},
		{
			name: "symlink out of the archive",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "layer.tar", typ: tar.TypeSymlink, link: "../../../etc/passwd"},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
			}),
			wantErr: "not found", notFnd: true,
		},
		{
			name: "layer is a directory",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "layer.tar/", typ: tar.TypeDir},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
			}),
			wantErr: "member layer.tar is not a regular file",
		},
		{
			name: "manifest.json is a fifo",
			archive: writeTar(t, []tarEntry{
				{name: "manifest.json", typ: tar.TypeFifo},
			}),
			wantErr: "member manifest.json is not a regular file",
		},
		{
			name: "config lists more layers than manifest.json",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(twoLayerCfg)},
				{name: "layer.tar", body: string(lt)},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
			}),
			wantErr: "config lists 2 layers, manifest.json 1",
		},
		{
			name: "manifest.json lists more layers than the config",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: string(cfg)},
				{name: "layer.tar", body: string(lt)},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar", "layer.tar")},
			}),
			wantErr: "config lists 1 layers, manifest.json 2",
		},
		{
			name:    "manifest.json is not JSON",
			archive: writeTar(t, []tarEntry{{name: "manifest.json", body: "<html>"}}),
			wantErr: "parse manifest.json",
		},
		{
			name:    "manifest.json is an object",
			archive: writeTar(t, []tarEntry{{name: "manifest.json", body: `{"Config":"x"}`}}),
			wantErr: "parse manifest.json",
		},
		{
			name:    "manifest.json lists nothing",
			archive: writeTar(t, []tarEntry{{name: "manifest.json", body: `[]`}}),
			wantErr: "manifest.json lists no image",
		},
		{
			name: "config is not JSON",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: "\x00\x01"},
				{name: "manifest.json", body: manifestJSON(t, "config.json")},
			}),
			wantErr: "parse config config.json",
		},
		{
			name: "config with a bad diffID",
			archive: writeTar(t, []tarEntry{
				{name: "config.json", body: `{"rootfs":{"type":"layers","diff_ids":["sha256:../../etc"]}}`},
				{name: "manifest.json", body: manifestJSON(t, "config.json", "layer.tar")},
			}),
			wantErr: "parse config config.json",
		},
		{
			name:    "no manifest.json",
			archive: writeTar(t, []tarEntry{{name: "config.json", body: string(cfg)}}),
			wantErr: "member manifest.json: not found", notFnd: true,
		},
		{
			name:    "garbage bytes",
			archive: bytes.Repeat([]byte("garbage!"), 200),
			wantErr: "not a tar archive",
		},
		{
			name:    "empty file",
			archive: nil,
			wantErr: "not a tar archive",
		},
		{
			name:    "only the end-of-archive marker",
			archive: make([]byte, 1024),
			wantErr: "not a tar archive (no members)",
		},
		{
			name:    "truncated in the padding of a member",
			archive: valid[:512+len(cfg)+1],
			wantErr: "truncated after 1 members (it ends inside a block)",
		},
		{
			name:    "truncated in a header",
			archive: valid[:512+blocks(len(cfg))+100],
			wantErr: "truncated after 1 members (unexpected EOF)",
		},
		{
			name:    "truncated in a member",
			archive: valid[:512+blocks(len(cfg))+512+blocks(len(lt))-512],
			wantErr: "truncated after 2 members (unexpected EOF)",
		},
		{
			name:    "cut at a member boundary",
			archive: valid[:512+blocks(len(cfg))],
			wantErr: "member manifest.json: not found (the archive has no end-of-archive marker: is it truncated?)", notFnd: true,
		},
		{
			name:    "complete but for the end-of-archive marker",
			archive: valid[:len(valid)-1024],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "hostile.tar", tt.archive)
			img, err := OpenDockerArchive(p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("OpenDockerArchive: %v", err)
				}
				defer img.Close()
				if got := readLayer(t, img.Layers[0]); !bytes.Equal(got, lt) {
					t.Errorf("layer bytes differ from the tar written")
				}
				return
			}
			if err == nil {
				img.Close()
				t.Fatalf("OpenDockerArchive succeeded, want error %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.wantErr)
			}
			if tt.notFnd != errors.Is(err, ErrNotFound) {
				t.Errorf("errors.Is(%q, ErrNotFound) = %v, want %v", err, !tt.notFnd, tt.notFnd)
			}
		})
	}
}

// TestHugeManifest checks that metadata bigger than maxMetadata is refused
// before it is read into memory.
func TestHugeManifest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	size := int64(maxMetadata + 1)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Size: size, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, strings.NewReader(strings.Repeat("[", int(size))), size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func() error{
		func() error { _, err := OpenDockerArchive(p); return err },
		func() error { _, err := Open(context.Background(), p, Options{}); return err },
	} {
		err := open()
		if err == nil || !strings.Contains(err.Error(), "more than the 16777216 bytes allowed") {
			t.Errorf("error %v, want a size limit error", err)
		}
	}
}

// TestHostileLayouts spoils OCI layouts written by go-containerregistry.
func TestHostileLayouts(t *testing.T) {
	fx := buildImage(t, "amd64", gzipped, gzipped, gzipped)

	tests := []struct {
		name    string
		spoil   func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name: "layer blob missing",
			spoil: func(t *testing.T, dir string) {
				rm(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(fx.digests[1], "sha256:")))
			},
			wantErr: "layer 1 (" + fx.digests[1] + ") is missing from the layout",
		},
		{
			name: "config blob missing",
			spoil: func(t *testing.T, dir string) {
				rm(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(fx.configDigest, "sha256:")))
			},
			wantErr: "read config",
		},
		{
			name: "manifest blob missing",
			spoil: func(t *testing.T, dir string) {
				rm(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(fx.manifestDigest, "sha256:")))
			},
			wantErr: "read manifest",
		},
		{
			name:    "index.json is not JSON",
			spoil:   func(t *testing.T, dir string) { write(t, filepath.Join(dir, "index.json"), "nope") },
			wantErr: "parse index.json",
		},
		{
			name: "index.json lists nothing",
			spoil: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "index.json"), `{"schemaVersion":2,"manifests":[]}`)
			},
			wantErr: "index.json lists no manifest",
		},
		{
			name: "index.json digest escapes",
			spoil: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "index.json"), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"../../../etc:passwd","size":1}]}`)
			},
			wantErr: "parse index.json",
		},
		{
			name: "not a container image",
			spoil: func(t *testing.T, dir string) {
				cfg := `{}`
				cd := writeBlob(t, dir, cfg)
				m := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"` + cd + `","size":2},"layers":[]}`
				md := writeBlob(t, dir, m)
				write(t, filepath.Join(dir, "index.json"), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+md+`","size":`+strconv.Itoa(len(m))+`}]}`)
			},
			wantErr: "is not a container image (config media type application/vnd.cncf.helm.config.v1+json)",
		},
		{
			name: "indexes nested in a loop",
			spoil: func(t *testing.T, dir string) {
				// An index cannot contain its own digest, but a chain
				// longer than any real one must stop all the same.
				d := fx.manifestDigest
				for i := 0; i < 8; i++ {
					ix := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + d + `","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}`
					d = writeBlob(t, dir, ix)
				}
				write(t, filepath.Join(dir, "index.json"), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"`+d+`","size":1}]}`)
			},
			wantErr: "image indexes nested too deep",
		},
		{
			name: "nested index lists nothing",
			spoil: func(t *testing.T, dir string) {
				d := writeBlob(t, dir, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
				write(t, filepath.Join(dir, "index.json"), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"`+d+`","size":1}]}`)
			},
			wantErr: "the image index lists no manifest",
		},
		{
			name: "huge index.json",
			spoil: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "index.json"), strings.Repeat(" ", maxMetadata+1))
			},
			wantErr: "more than the 16777216 bytes allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLayout(t, map[string]v1.Image{"": fx.img})
			tt.spoil(t, dir)
			for _, open := range []struct {
				name string
				fn   func() (*Image, error)
			}{
				{"layout", func() (*Image, error) { return OpenOCILayout(dir, Options{Platform: "linux/amd64"}) }},
				{"archive", func() (*Image, error) { return OpenOCIArchive(tarDir(t, dir, ""), Options{Platform: "linux/amd64"}) }},
			} {
				img, err := open.fn()
				if err == nil {
					img.Close()
					t.Fatalf("%s: opened, want error %q", open.name, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: error %q\nwant it to contain %q", open.name, err, tt.wantErr)
				}
			}
		})
	}
}

func rm(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeBlob stores s in the layout's blobs and returns its digest.
func writeBlob(t *testing.T, dir, s string) string {
	t.Helper()
	d := sha256Hex([]byte(s))
	write(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), s)
	return d
}
