package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/bulkhead-sec/bulkhead/internal/layer"
)

// TestFileTransports opens one image written in every file format, through
// both the transport prefix and the bare-path detection, and checks that
// each reports the same layers, history and bytes.
func TestFileTransports(t *testing.T) {
	docker := buildImage(t, "amd64", plain, plain, plain)
	dockerGz := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	ociGz := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	ociZstd := buildImage(t, "amd64", gzipped, zstded, gzipped)

	dockerTar := writeDockerArchive(t, docker, "bulkhead.test/fixture:v1")
	layoutGz := writeLayout(t, map[string]v1.Image{"v1": ociGz.img})
	layoutZstd := writeLayout(t, map[string]v1.Image{"": ociZstd.img})

	docker25 := docker25Archive(t, docker, "bulkhead.test/fixture:v25")

	tests := []struct {
		name      string
		ref       string
		fx        *fixture
		transport string
		manifest  bool // the source knows the manifest digest
		digests   bool // the source knows the stored blob digests
		wantName  string
	}{
		{name: "docker-archive", ref: "docker-archive:" + dockerTar, fx: docker, transport: DockerArchive, wantName: "bulkhead.test/fixture:v1"},
		{name: "docker-archive bare path", ref: dockerTar, fx: docker, transport: DockerArchive, wantName: "bulkhead.test/fixture:v1"},
		{name: "docker-archive as Docker 25 writes it", ref: docker25, fx: docker, transport: DockerArchive, digests: true, wantName: "bulkhead.test/fixture:v25"},
		{name: "docker-archive gzip layers", ref: "docker-archive:" + writeDockerArchive(t, dockerGz, "bulkhead.test/gz:v1"), fx: dockerGz, transport: DockerArchive, wantName: "bulkhead.test/gz:v1"},
		{name: "oci-layout gzip", ref: "oci-layout:" + layoutGz, fx: ociGz, transport: OCILayout, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-layout gzip by tag", ref: "oci-layout:" + layoutGz + ":v1", fx: ociGz, transport: OCILayout, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-layout gzip by digest", ref: "oci-layout:" + layoutGz + "@" + ociGz.manifestDigest, fx: ociGz, transport: OCILayout, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-layout bare dir", ref: layoutGz, fx: ociGz, transport: OCILayout, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-layout zstd layer", ref: "oci-layout:" + layoutZstd, fx: ociZstd, transport: OCILayout, manifest: true, digests: true, wantName: layoutZstd},
		{name: "oci-archive", ref: "oci-archive:" + tarDir(t, layoutGz, ""), fx: ociGz, transport: OCIArchive, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-archive ./ names", ref: "oci-archive:" + tarDir(t, layoutZstd, "./"), fx: ociZstd, transport: OCIArchive, manifest: true, digests: true},
		{name: "oci-archive by tag", ref: "oci-archive:" + tarDir(t, layoutGz, "") + ":v1", fx: ociGz, transport: OCIArchive, manifest: true, digests: true, wantName: "v1"},
		{name: "oci-archive bare path", ref: tarDir(t, layoutZstd, "./"), fx: ociZstd, transport: OCIArchive, manifest: true, digests: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := Open(context.Background(), tt.ref, Options{Platform: "linux/amd64"})
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.ref, err)
			}
			if target.Image == nil {
				t.Fatalf("Open(%q) gave a directory target %q, want an image", tt.ref, target.Dir)
			}
			img := target.Image
			t.Cleanup(func() {
				if err := img.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			if img.Ref != tt.ref {
				t.Errorf("Ref = %q, want %q", img.Ref, tt.ref)
			}
			if tt.wantName != "" && img.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", img.Name, tt.wantName)
			}
			checkImage(t, img, tt.fx, tt.fx.wantView(tt.transport, tt.manifest, tt.digests))
		})
	}
}

// docker25Archive writes fx as `docker save` does since Docker 25: an OCI
// layout whose blobs manifest.json names too.
func docker25Archive(t *testing.T, fx *fixture, tag string) string {
	t.Helper()
	dir := writeLayout(t, map[string]v1.Image{tag: fx.img})
	var layers []string
	for _, d := range fx.digests {
		layers = append(layers, "blobs/sha256/"+strings.TrimPrefix(d, "sha256:"))
	}
	m := []dockerManifestEntry{{Config: "blobs/sha256/" + strings.TrimPrefix(fx.configDigest, "sha256:"), RepoTags: []string{tag}, Layers: layers}}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mustJSON(t, m), 0o644); err != nil {
		t.Fatal(err)
	}
	return tarDir(t, dir, "")
}

// TestLayoutRelativeDot opens a layout by the relative path ".", which the
// first version of dirStore took for a path escaping the layout.
func TestLayoutRelativeDot(t *testing.T) {
	fx := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	dir := writeLayout(t, map[string]v1.Image{"": fx.img})
	t.Chdir(dir)
	img, err := OpenOCILayout(".", Options{})
	if err != nil {
		t.Fatalf("OpenOCILayout(.): %v", err)
	}
	defer img.Close()
	checkImage(t, img, fx, fx.wantView(OCILayout, true, true))
}

// TestLayoutPlatforms selects images of a multi-platform index, both when
// index.json lists the platform manifests itself and when it points to a
// nested image index.
func TestLayoutPlatforms(t *testing.T) {
	amd := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	arm := buildImage(t, "arm64", gzipped, zstded, gzipped)
	multi := multiArchIndex(amd, arm)

	flat := filepath.Join(t.TempDir(), "flat")
	if _, err := layout.Write(flat, multi); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(t.TempDir(), "nested")
	p, err := layout.Write(nested, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(multi, layout.WithAnnotations(map[string]string{testRefName: "multi"})); err != nil {
		t.Fatal(err)
	}
	nestedArchive := tarDir(t, nested, "")

	byArch := map[string]*fixture{"amd64": amd, "arm64": arm}
	tests := []struct {
		name     string
		open     func(platform string) (*Image, error)
		platform string
		want     *fixture // nil: an error is expected
		wantErr  string
	}{
		{name: "flat arm64", open: layoutOpener(flat), platform: "linux/arm64", want: arm},
		{name: "flat amd64", open: layoutOpener(flat), platform: "linux/amd64", want: amd},
		{name: "flat host default", open: layoutOpener(flat), want: byArch[runtime.GOARCH], wantErr: "no image for platform"},
		{name: "flat missing platform", open: layoutOpener(flat), platform: "linux/s390x", wantErr: "no image for platform linux/s390x (the index has linux/amd64, linux/arm64); choose one with --platform"},
		{name: "nested arm64", open: layoutOpener(nested), platform: "linux/arm64", want: arm},
		{name: "nested by tag", open: layoutOpener(nested + ":multi"), platform: "linux/amd64", want: amd},
		{name: "nested missing platform", open: layoutOpener(nested), platform: "windows/amd64", wantErr: "the index has linux/amd64, linux/arm64"},
		{name: "archive nested arm64", open: archiveOpener(nestedArchive), platform: "linux/arm64", want: arm},
		{name: "archive missing platform", open: archiveOpener(nestedArchive), platform: "linux/ppc64le", wantErr: "the index has linux/amd64, linux/arm64"},
		{name: "bad platform", open: layoutOpener(flat), platform: "linux/arm64/v8/extra/bits", wantErr: "parse --platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := tt.open(tt.platform)
			if tt.want == nil {
				if err == nil {
					img.Close()
					t.Fatalf("opened platform %q, want error %q", tt.platform, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("open platform %q: %v", tt.platform, err)
			}
			defer img.Close()
			want := tt.want.wantView(img.Transport, true, true)
			checkImage(t, img, tt.want, want)
		})
	}
}

func multiArchIndex(fxs ...*fixture) v1.ImageIndex {
	var adds []mutate.IndexAddendum
	for _, fx := range fxs {
		adds = append(adds, mutate.IndexAddendum{
			Add:        fx.img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: fx.arch}},
		})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

func layoutOpener(ref string) func(string) (*Image, error) {
	return func(platform string) (*Image, error) { return OpenOCILayout(ref, Options{Platform: platform}) }
}

func archiveOpener(ref string) func(string) (*Image, error) {
	return func(platform string) (*Image, error) { return OpenOCIArchive(ref, Options{Platform: platform}) }
}

// TestLayoutTags selects one of several tagged images in a layout by tag
// and by digest, and refuses to guess when none is named.
func TestLayoutTags(t *testing.T) {
	one := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	two := buildImage(t, "arm64", gzipped, gzipped, gzipped)
	three := buildImage(t, "riscv64", gzipped, gzipped, gzipped)
	dir := writeLayout(t, map[string]v1.Image{"one": one.img, "two": two.img, "registry.example/app:three": three.img})
	archive := tarDir(t, dir, "")

	tests := []struct {
		name    string
		ref     string
		want    *fixture
		wantErr string
		notFnd  bool
	}{
		{name: "tag one", ref: dir + ":one", want: one},
		{name: "tag two", ref: dir + ":two", want: two},
		{name: "tag suffix of a full name", ref: dir + ":three", want: three},
		{name: "full ref name", ref: dir + ":registry.example/app:three", want: three},
		{name: "digest", ref: dir + "@" + two.manifestDigest, want: two},
		{name: "archive tag", ref: "oci-archive:" + archive + ":one", want: one},
		{name: "archive digest", ref: "oci-archive:" + archive + "@" + three.manifestDigest, want: three},
		{name: "unknown tag", ref: dir + ":four", wantErr: `no manifest tagged "four"`, notFnd: true},
		{name: "unknown digest", ref: dir + "@sha256:" + strings.Repeat("0", 64), wantErr: "no manifest with digest", notFnd: true},
		{name: "no selector", ref: dir, wantErr: "the layout holds 3 images; choose one by appending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := tt.ref
			if !strings.HasPrefix(ref, "oci-archive:") {
				ref = "oci-layout:" + ref
			}
			target, err := Open(context.Background(), ref, Options{})
			if tt.want == nil {
				if err == nil {
					target.Image.Close()
					t.Fatalf("Open(%q) succeeded, want error %q", ref, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
				}
				if tt.notFnd && !errors.Is(err, ErrNotFound) {
					t.Errorf("error %q is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", ref, err)
			}
			defer target.Image.Close()
			checkImage(t, target.Image, tt.want, tt.want.wantView(target.Image.Transport, true, true))
		})
	}
}

// TestOpenBarePaths checks how bare paths are told apart.
func TestOpenBarePaths(t *testing.T) {
	plainDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(plainDir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A project checkout with an index.json of its own is not a layout.
	webDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(webDir, "index.json"), []byte(`{"name":"site"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := writeFile(t, "files.tar", writeTar(t, []tarEntry{{name: "README", body: "hi\n"}}))
	notTar := writeFile(t, "notes.txt", []byte("just some text, long enough to fill more than a tar block? no.\n"))
	gz := buildImage(t, "amd64", plain, plain, plain)
	gzPath := gzipFile(t, writeDockerArchive(t, gz, "bulkhead.test/gz:v1"))

	tests := []struct {
		name    string
		ref     string
		wantDir string
		wantErr string
		notFnd  bool
	}{
		{name: "plain dir", ref: plainDir, wantDir: plainDir},
		{name: "dir transport", ref: "dir:" + plainDir, wantDir: plainDir},
		{name: "dir with a stray index.json", ref: webDir, wantDir: webDir},
		{name: "dir transport on a file", ref: "dir:" + notTar, wantErr: "is not a directory"},
		{name: "missing path", ref: filepath.Join(plainDir, "nope.tar"), wantErr: "no such file or directory", notFnd: true},
		{name: "missing relative path", ref: "./does/not/exist", wantErr: "no such file or directory", notFnd: true},
		{name: "tar that is no image", ref: notImage, wantErr: "neither a docker-archive nor an oci-archive"},
		{name: "file that is no tar", ref: notTar, wantErr: "is a file but not an image archive"},
		{name: "gzip-compressed archive", ref: gzPath, wantErr: "gzip-compressed; image archives are read uncompressed, in place: run `gunzip -k"},
		{name: "docker-archive of a directory", ref: "docker-archive:" + plainDir, wantErr: "is a directory, not an archive"},
		{name: "oci-layout without index.json", ref: "oci-layout:" + plainDir, wantErr: "no index.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := Open(context.Background(), tt.ref, Options{})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Open(%q) = %+v, want error %q", tt.ref, target, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
				}
				if tt.notFnd && !errors.Is(err, ErrNotFound) {
					t.Errorf("error %q is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.ref, err)
			}
			want := &Target{Dir: tt.wantDir, Ref: tt.ref}
			if diff := cmp.Diff(want, target, cmp.AllowUnexported(Image{})); diff != "" {
				t.Errorf("Open(%q) (-want +got):\n%s", tt.ref, diff)
			}
		})
	}
}

// gzipFile writes a gzip-compressed copy of the file at p.
func gzipFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "image.tar.gz", buf.Bytes())
}

func TestSplitTransport(t *testing.T) {
	tests := []struct {
		ref, transport, rest string
	}{
		{"docker-archive:/tmp/a.tar", DockerArchive, "/tmp/a.tar"},
		{"oci-archive:a.tar:v1", OCIArchive, "a.tar:v1"},
		{"oci-layout:./dir@sha256:abc", OCILayout, "./dir@sha256:abc"},
		{"dir:/src", Dir, "/src"},
		{"docker:nginx:1.27", Docker, "nginx:1.27"},
		{"docker://nginx", Docker, "nginx"},
		{"registry:ghcr.io/org/app:1", Registry, "ghcr.io/org/app:1"},
		{"registry://ghcr.io/org/app", Registry, "ghcr.io/org/app"},
		// Hosts that happen to be called like a transport.
		{"registry:5000/app:1", "", "registry:5000/app:1"},
		{"docker:2375/app", "", "docker:2375/app"},
		{"nginx:1.27", "", "nginx:1.27"},
		{"localhost:5000/app", "", "localhost:5000/app"},
		{"/abs/path.tar", "", "/abs/path.tar"},
	}
	for _, tt := range tests {
		transport, rest := SplitTransport(tt.ref)
		if transport != tt.transport || rest != tt.rest {
			t.Errorf("SplitTransport(%q) = %q, %q; want %q, %q", tt.ref, transport, rest, tt.transport, tt.rest)
		}
	}
}

func TestLayerWithoutOpener(t *testing.T) {
	var l Layer
	if _, err := l.Open(context.Background()); err == nil || !strings.Contains(err.Error(), "no opener") {
		t.Errorf("Open of a zero Layer: %v, want a no-opener error", err)
	}
}

// TestWalkLayers hands the layers of an OCI layout to the layer walker, as
// a scan does: each one's diffID must verify, and the whiteouts written in
// the later layers must be seen.
func TestWalkLayers(t *testing.T) {
	fx := buildImage(t, "amd64", gzipped, zstded, gzipped)
	img, err := OpenOCILayout(writeLayout(t, map[string]v1.Image{"": fx.img}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	type walked struct {
		DiffID     string
		Whiteouts  []string
		OpaqueDirs []string
	}
	var got []walked
	for _, l := range img.Layers {
		rc, err := l.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s, err := layer.Walk(context.Background(), rc, func(*layer.Entry) error { return nil })
		rc.Close()
		if err != nil {
			t.Fatalf("walk layer %d: %v", l.Index, err)
		}
		got = append(got, walked{DiffID: s.DiffID, Whiteouts: s.Whiteouts, OpaqueDirs: s.OpaqueDirs})
	}
	want := []walked{
		{DiffID: fx.diffIDs[0]},
		{DiffID: fx.diffIDs[1], Whiteouts: []string{"/etc/secret.txt"}},
		{DiffID: fx.diffIDs[2], OpaqueDirs: []string{"/app"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("walked layers (-want +got):\n%s", diff)
	}
}
