package source

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openAll opens the archive at p every way the sources can, and checks the
// invariants any image that opens must keep. It must never panic.
func openAll(t *testing.T, p string) {
	opens := []func() (*Image, error){
		func() (*Image, error) { return OpenDockerArchive(p) },
		func() (*Image, error) { return OpenOCIArchive(p, Options{Platform: "linux/amd64"}) },
		func() (*Image, error) {
			target, err := Open(context.Background(), p, Options{Platform: "linux/amd64"})
			if err != nil {
				return nil, err
			}
			return target.Image, nil
		},
	}
	for _, open := range opens {
		img, err := open()
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error message")
			}
			continue
		}
		if img.Config == nil {
			t.Fatalf("opened image has no config")
		}
		if len(img.Layers) != len(img.Config.RootFS.DiffIDs) {
			t.Fatalf("%d layers, config lists %d", len(img.Layers), len(img.Config.RootFS.DiffIDs))
		}
		for i, l := range img.Layers {
			if l.Index != i {
				t.Fatalf("layer %d has index %d", i, l.Index)
			}
			rc, err := l.Open(context.Background())
			if err != nil {
				continue // a layer may be missing from a hostile layout
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(rc, 1<<20)); err != nil {
				t.Fatalf("read layer %d: %v", i, err)
			}
			rc.Close()
		}
		if err := img.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// fuzzFile writes b to a fresh file in dir.
func fuzzFile(t *testing.T, dir string, b []byte) string {
	f, err := os.CreateTemp(dir, "fuzz-*.tar")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// FuzzOpenDockerArchive feeds arbitrary bytes, seeded with real archives,
// to the tar index and the archive openers.
//
// Seeds are kept small (a few KiB): the fuzzer minimizes every new input
// byte by byte, which takes minutes on a tens-of-KiB archive.
func FuzzOpenDockerArchive(f *testing.F) {
	layerTar := writeTar(f, []tarEntry{{name: "etc/os-release", body: "ID=fuzz\n"}})
	cfg := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + sha256Hex(layerTar) + `"]},"history":[{"created_by":"ADD x /"}]}`
	f.Add(writeTar(f, []tarEntry{
		{name: "config.json", body: cfg},
		{name: "layer.tar", body: string(layerTar)},
		{name: "manifest.json", body: `[{"Config":"config.json","RepoTags":["fuzz:1"],"Layers":["layer.tar"]}]`},
	}))
	ld, cd := sha256Hex(layerTar), sha256Hex([]byte(cfg))
	manifest := `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + cd + `","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + ld + `","size":1}]}`
	f.Add(writeTar(f, []tarEntry{
		{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
		{name: "index.json", body: `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + sha256Hex([]byte(manifest)) + `","size":1}]}`},
		{name: blob(sha256Hex([]byte(manifest))), body: manifest},
		{name: blob(cd), body: cfg},
		{name: blob(ld), body: string(layerTar)},
	}))
	f.Add(writeTar(f, []tarEntry{
		{name: "a", typ: tar.TypeSymlink, link: "b"},
		{name: "b", typ: tar.TypeLink, link: "a"},
		{name: "manifest.json", body: `[{"Config":"a","Layers":["b"]}]`},
	}))
	f.Add([]byte{})
	f.Add(make([]byte, 1024))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		openAll(t, fuzzFile(t, dir, b))
	})
}

// FuzzDockerArchiveMembers fuzzes the members of a docker-archive rather
// than its bytes: the tar stays valid, so the fuzzer reaches the JSON and
// link handling behind the tar checksums.
func FuzzDockerArchiveMembers(f *testing.F) {
	layerTar := writeTar(f, []tarEntry{{name: "etc/os-release", body: "ID=fuzz\n"}})
	cfg := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + sha256Hex(layerTar) + `"]},"history":[{"created_by":"ADD x /"},{"created_by":"ENV A=1","empty_layer":true}]}`
	f.Add(`[{"Config":"config.json","RepoTags":["fuzz:1"],"Layers":["layer.tar"]}]`, cfg, "layer.tar", layerTar, "layer.tar")
	f.Add(`[{"Config":"config.json","Layers":["link.tar"]}]`, cfg, "layer.tar", layerTar, "../layer.tar")
	f.Add(`[{"Config":"config.json","Layers":["link.tar"]}]`, cfg, "link.tar", layerTar, "link.tar")
	f.Add(`[{"Config":"../config.json","Layers":["blobs/sha256/`+strings.Repeat("a", 64)+`"]}]`, cfg, "blobs/sha256/"+strings.Repeat("a", 64), layerTar, "/")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, manifest, config, layerName string, layerBody []byte, linkTarget string) {
		if layerName == "" || len(layerName) > 200 || len(linkTarget) > 200 {
			return
		}
		var buf strings.Builder
		tw := tar.NewWriter(&buf)
		for _, m := range []struct {
			h    tar.Header
			body []byte
		}{
			{tar.Header{Name: "config.json", Typeflag: tar.TypeReg, Size: int64(len(config))}, []byte(config)},
			{tar.Header{Name: layerName, Typeflag: tar.TypeReg, Size: int64(len(layerBody))}, layerBody},
			{tar.Header{Name: "link.tar", Typeflag: tar.TypeSymlink, Linkname: linkTarget}, nil},
			{tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Size: int64(len(manifest))}, []byte(manifest)},
		} {
			m.h.Mode = 0o644
			if err := tw.WriteHeader(&m.h); err != nil {
				return // a name tar cannot hold
			}
			if _, err := tw.Write(m.body); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		openAll(t, fuzzFile(t, dir, []byte(buf.String())))
	})
}

// FuzzOCIArchiveMembers fuzzes the index, manifest and config of an
// oci-archive. "$M", "$C" and "$L" in them stand for the digests of the
// manifest, config and layer blobs, so the fuzzer can keep them pointing at
// each other.
func FuzzOCIArchiveMembers(f *testing.F) {
	layerTar := writeTar(f, []tarEntry{{name: "etc/os-release", body: "ID=fuzz\n"}})
	index := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$M","size":1,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`
	nested := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"$M","size":1}]}`
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$C","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"$L","size":1}]}`
	platforms := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$C","size":1,"platform":{"os":"linux","architecture":"arm64"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$L","size":1,"platform":{"os":"unknown","architecture":"unknown"}}]}`
	cfg := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + sha256Hex(layerTar) + `"]},"history":[{"created_by":"ADD x /"}]}`
	f.Add(index, manifest, cfg, layerTar)
	f.Add(nested, platforms, cfg, layerTar)
	f.Add(nested, manifest, cfg, layerTar)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, index, manifest, config string, layerBody []byte) {
		ld := sha256Hex(layerBody)
		config = strings.ReplaceAll(config, "$L", ld)
		cd := sha256Hex([]byte(config))
		manifest = strings.NewReplacer("$C", cd, "$L", ld).Replace(manifest)
		md := sha256Hex([]byte(manifest))
		index = strings.NewReplacer("$M", md, "$C", cd, "$L", ld).Replace(index)

		var buf strings.Builder
		tw := tar.NewWriter(&buf)
		for _, m := range []struct {
			name string
			body []byte
		}{
			{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
			{"index.json", []byte(index)},
			{blob(md), []byte(manifest)},
			{blob(cd), []byte(config)},
			{blob(ld), layerBody},
		} {
			if err := tw.WriteHeader(&tar.Header{Name: m.name, Typeflag: tar.TypeReg, Size: int64(len(m.body)), Mode: 0o644}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(m.body); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		p := fuzzFile(t, dir, []byte(buf.String()))
		openAll(t, p)
		// The same files as a layout directory.
		layoutDir, err := os.MkdirTemp(dir, "layout-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(layoutDir)
		for name, body := range map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": index, blob(md): manifest, blob(cd): config, blob(ld): string(layerBody)} {
			fp := filepath.Join(layoutDir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(fp, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if img, err := OpenOCILayout(layoutDir, Options{Platform: "linux/amd64"}); err == nil {
			if len(img.Layers) != len(img.Config.RootFS.DiffIDs) {
				t.Fatalf("%d layers, config lists %d", len(img.Layers), len(img.Config.RootFS.DiffIDs))
			}
			img.Close()
		}
	})
}

func blob(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }
