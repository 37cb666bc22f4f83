package source

// Test images are built here, in the test, from tar bytes the test writes
// itself: no image blob is committed. go-containerregistry assembles them and
// writes them in each format the sources read.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/bulkhead-sec/bulkhead/internal/layer"
)

// tarEntry is one member of a tar written by writeTar.
type tarEntry struct {
	name string
	body string
	typ  byte   // tar.TypeReg when zero
	link string // symlink or hardlink target
	size int64  // header size when it must differ from len(body)
}

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// writeTar returns the bytes of a tar holding entries, in order.
func writeTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
		switch e.typ {
		case 0, tar.TypeReg:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("write tar header %s: %v", e.name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatalf("write tar member %s: %v", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixtureLayers are three real layers: a base with /etc/os-release and a
// secret, a layer that deletes the secret with a whiteout, and one that
// replaces /app with an opaque directory. arch is written into the base so
// the images of a multi-platform index differ.
func fixtureLayers(t testing.TB, arch string) [][]byte {
	t.Helper()
	return [][]byte{
		writeTar(t, []tarEntry{
			{name: "etc/", typ: tar.TypeDir},
			{name: "etc/os-release", body: "PRETTY_NAME=\"Bulkhead Test Linux\"\nID=bulkhead\nVERSION_ID=1.0\n"},
			{name: "etc/secret.txt", body: "password=hunter2\n"},
			{name: "etc/arch", body: arch + "\n"},
			{name: "bin/", typ: tar.TypeDir},
			{name: "bin/busybox", body: "\x7fELF not really\n"},
			{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
		}),
		writeTar(t, []tarEntry{
			{name: "etc/", typ: tar.TypeDir},
			{name: "etc/.wh.secret.txt"},
			{name: "app/", typ: tar.TypeDir},
			{name: "app/hello.txt", body: "hello\n"},
		}),
		writeTar(t, []tarEntry{
			{name: "app/", typ: tar.TypeDir},
			{name: "app/.wh..wh..opq"},
			{name: "app/new.txt", body: "new\n"},
		}),
	}
}

// fixtureHistory is the image history: empty_layer entries sit between and
// after the three layers, so a naive index into History is wrong.
var fixtureHistory = []v1.History{
	{CreatedBy: "ADD rootfs.tar / # buildkit"},
	{CreatedBy: "ENV PATH=/bin", EmptyLayer: true},
	{CreatedBy: "RUN rm /etc/secret.txt && echo hello > /app/hello.txt"},
	{CreatedBy: "LABEL org.example=1", EmptyLayer: true},
	{CreatedBy: "COPY new.txt /app/"},
	{CreatedBy: "CMD [\"/bin/sh\"]", EmptyLayer: true},
}

// wantCreatedBy is what each layer must report.
var wantCreatedBy = []string{
	"ADD rootfs.tar / # buildkit",
	"RUN rm /etc/secret.txt && echo hello > /app/hello.txt",
	"COPY new.txt /app/",
}

// layerKind says how a layer's blob is stored.
type layerKind int

const (
	plain layerKind = iota // uncompressed tar, as docker save writes it
	gzipped
	zstded
)

// fixture is an image built for a test and what any source must report
// for it.
type fixture struct {
	img            v1.Image
	tars           [][]byte // uncompressed layer tars
	diffIDs        []string // as go-containerregistry computed them
	digests        []string // stored blob digests
	mediaTypes     []string
	configDigest   string
	manifestDigest string
	arch           string
}

// buildImage assembles an image for linux/arch whose layers are stored as
// kinds says (one kind per layer). OCI media types are used unless every
// layer is plain, which makes a Docker image like docker save's.
func buildImage(t testing.TB, arch string, kinds ...layerKind) *fixture {
	t.Helper()
	tars := fixtureLayers(t, arch)
	if len(kinds) != len(tars) {
		t.Fatalf("buildImage: %d kinds for %d layers", len(kinds), len(tars))
	}
	oci := false
	for _, k := range kinds {
		oci = oci || k != plain
	}
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	cfg, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Config.Env = []string{"PATH=/bin"}
	base, err = mutate.ConfigFile(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var adds []mutate.Addendum
	li := 0
	for _, h := range fixtureHistory {
		if h.EmptyLayer {
			adds = append(adds, mutate.Addendum{History: h})
			continue
		}
		adds = append(adds, mutate.Addendum{Layer: makeLayer(t, tars[li], kinds[li]), History: h})
		li++
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		t.Fatalf("mutate.Append: %v", err)
	}
	fx := &fixture{img: img, tars: tars, arch: arch}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256Hex(tars[i]); d.String() != want {
			t.Fatalf("layer %d: ggcr diffID %s, sha256 of the tar %s", i, d, want)
		}
		fx.diffIDs = append(fx.diffIDs, d.String())
		dg, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		fx.digests = append(fx.digests, dg.String())
		mt, err := l.MediaType()
		if err != nil {
			t.Fatal(err)
		}
		fx.mediaTypes = append(fx.mediaTypes, string(mt))
	}
	cn, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	fx.configDigest = cn.String()
	md, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	fx.manifestDigest = md.String()
	return fx
}

func makeLayer(t testing.TB, b []byte, kind layerKind) v1.Layer {
	t.Helper()
	if kind == plain {
		return static.NewLayer(b, types.DockerUncompressedLayer)
	}
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	opts := []tarball.LayerOption{tarball.WithMediaType(types.OCILayer)}
	if kind == zstded {
		opts = []tarball.LayerOption{tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd)}
	}
	l, err := tarball.LayerFromOpener(opener, append(opts, tarball.WithCompressedCaching)...)
	if err != nil {
		t.Fatalf("build layer: %v", err)
	}
	return l
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// writeDockerArchive writes fx as `docker save` would: manifest.json,
// config and one tar per layer, stored as built (uncompressed for plain).
func writeDockerArchive(t testing.TB, fx *fixture, tag string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, ref, fx.img); err != nil {
		t.Fatalf("write docker-archive: %v", err)
	}
	return p
}

const testRefName = "org.opencontainers.image.ref.name"

// writeLayout writes images into a new OCI layout, each annotated with its
// ref name when one is given, and returns its directory.
func writeLayout(t testing.TB, imgs map[string]v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for ref, img := range imgs {
		var opts []layout.Option
		if ref != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{testRefName: ref}))
		}
		if err := p.AppendImage(img, opts...); err != nil {
			t.Fatalf("write layout: %v", err)
		}
	}
	return dir
}

// tarDir writes the tree under dir as a tar file, member names prefixed
// with prefix ("" or "./", as `tar -C dir -cf f .` writes them).
func tarDir(t testing.TB, dir, prefix string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "archive.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = prefix + filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tar %s: %v", dir, err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeFile writes b to a new file in a temporary directory.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// layerView is what a source reports about one layer.
type layerView struct {
	Index     int
	DiffID    string
	Digest    string
	MediaType string
	CreatedBy string
}

// imageView is what a source reports about an image, for cmp.Diff.
type imageView struct {
	Transport      string
	ConfigDigest   string
	ManifestDigest string
	Architecture   string
	Layers         []layerView
}

// wantView is what a source must report for fx. Digests are compared only
// and media types when the source knows them (withDigests).
func (fx *fixture) wantView(transport string, withManifest, withDigests bool) imageView {
	v := imageView{Transport: transport, ConfigDigest: fx.configDigest, Architecture: fx.arch}
	if withManifest {
		v.ManifestDigest = fx.manifestDigest
	}
	for i := range fx.tars {
		lv := layerView{Index: i, DiffID: fx.diffIDs[i], CreatedBy: wantCreatedBy[i]}
		if withDigests {
			lv.Digest, lv.MediaType = fx.digests[i], fx.mediaTypes[i]
		}
		v.Layers = append(v.Layers, lv)
	}
	return v
}

func viewOf(img *Image, withDigests bool) imageView {
	v := imageView{Transport: img.Transport, ConfigDigest: img.ConfigDigest, ManifestDigest: img.ManifestDigest}
	if img.Config != nil {
		v.Architecture = img.Config.Architecture
	}
	for _, l := range img.Layers {
		lv := layerView{Index: l.Index, DiffID: l.DiffID, CreatedBy: l.CreatedBy}
		if withDigests {
			lv.Digest, lv.MediaType = l.Digest, l.MediaType
		}
		v.Layers = append(v.Layers, lv)
	}
	return v
}

// checkImage asserts that img is fx as seen through a source: layer count,
// diffIDs, history, digests, and the bytes of every layer after
// decompression.
func checkImage(t *testing.T, img *Image, fx *fixture, want imageView) {
	t.Helper()
	withDigests := len(want.Layers) > 0 && want.Layers[0].Digest != ""
	if diff := cmp.Diff(want, viewOf(img, withDigests)); diff != "" {
		t.Errorf("image mismatch (-want +got):\n%s", diff)
	}
	if len(img.Layers) != len(fx.tars) {
		return
	}
	for i, l := range img.Layers {
		if l.Digest != "" {
			if raw := readRaw(t, l); sha256Hex(raw) != l.Digest {
				t.Errorf("layer %d: stored blob has sha256 %s, want its digest %s", i, sha256Hex(raw), l.Digest)
			}
		}
		got := readLayer(t, l)
		if !bytes.Equal(got, fx.tars[i]) {
			t.Errorf("layer %d: %d bytes after decompression, sha256 %s; want the %d bytes written, sha256 %s",
				i, len(got), sha256Hex(got), len(fx.tars[i]), sha256Hex(fx.tars[i]))
		}
	}
}

// readRaw reads a layer's blob as stored.
func readRaw(t *testing.T, l *Layer) []byte {
	t.Helper()
	rc, err := l.Open(context.Background())
	if err != nil {
		t.Fatalf("open layer %d: %v", l.Index, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read layer %d: %v", l.Index, err)
	}
	return b
}

// readLayer opens a layer as a source serves it and decompresses it the
// way the walker does.
func readLayer(t *testing.T, l *Layer) []byte {
	t.Helper()
	rc, err := l.Open(context.Background())
	if err != nil {
		t.Fatalf("open layer %d: %v", l.Index, err)
	}
	defer rc.Close()
	r, done, err := layer.Decompress(rc)
	if err != nil {
		t.Fatalf("decompress layer %d: %v", l.Index, err)
	}
	defer done()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read layer %d: %v", l.Index, err)
	}
	return b
}

// mustJSON marshals v or fails the test.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
