// Package imagebuild assembles real container images from directories for
// tests, benchmarks and the demo: a full layer from a root filesystem, diff
// layers (changed files plus whiteouts) from later states of it, history
// entries, and the docker-archive and OCI layout forms of the result.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer with the instruction that made it.
type Layer struct {
	Tar       string // path of an uncompressed tar file
	CreatedBy string
}

// WriteDirTar writes the whole tree under dir as a layer tar to out.
func WriteDirTar(dir, out string) error {
	return writeTar(out, func(tw *tar.Writer) error {
		return addTree(tw, dir, nil)
	})
}

// WriteDiffTar writes a layer that turns oldDir into newDir: every entry
// that is new or changed, and a whiteout for every entry that is gone.
func WriteDiffTar(oldDir, newDir, out string) error {
	return writeTar(out, func(tw *tar.Writer) error {
		if err := addTree(tw, newDir, func(rel string, fi fs.FileInfo) bool {
			old, err := os.Lstat(filepath.Join(oldDir, rel))
			if err != nil {
				return true
			}
			if fi.IsDir() && old.IsDir() {
				return fi.Mode() != old.Mode()
			}
			return !sameFile(filepath.Join(oldDir, rel), filepath.Join(newDir, rel), old, fi)
		}); err != nil {
			return err
		}
		return addWhiteouts(tw, oldDir, newDir)
	})
}

func writeTar(out string, fill func(*tar.Writer) error) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	if err := fill(tw); err != nil {
		f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sameFile(a, b string, fa, fb fs.FileInfo) bool {
	if fa.Mode() != fb.Mode() || fa.Size() != fb.Size() {
		return false
	}
	switch {
	case fa.Mode()&fs.ModeSymlink != 0:
		ta, _ := os.Readlink(a)
		tb, _ := os.Readlink(b)
		return ta == tb
	case fa.Mode().IsRegular():
		if fa.ModTime().Equal(fb.ModTime()) {
			return true
		}
		ba, err1 := os.ReadFile(a)
		bb, err2 := os.ReadFile(b)
		return err1 == nil && err2 == nil && bytes.Equal(ba, bb)
	}
	return true
}

// addTree adds root's entries in lexical order; include filters them (nil
// takes all). Hardlinked files become tar hardlinks.
func addTree(tw *tar.Writer, root string, include func(rel string, fi fs.FileInfo) bool) error {
	inodes := map[uint64]string{}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if include != nil && !include(rel, fi) {
			return nil
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // sockets and the like: not image content
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
			if first, ok := inodes[st.Ino]; ok {
				hdr.Typeflag = tar.TypeLink
				hdr.Linkname = first
				hdr.Size = 0
			} else {
				inodes[st.Ino] = rel
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	})
}

func addWhiteouts(tw *tar.Writer, oldDir, newDir string) error {
	var gone []string
	err := filepath.WalkDir(oldDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(oldDir, p)
		if rel == "." {
			return nil
		}
		if _, err := os.Lstat(filepath.Join(newDir, rel)); os.IsNotExist(err) {
			gone = append(gone, filepath.ToSlash(rel))
			if d.IsDir() {
				return fs.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(gone)
	for _, g := range gone {
		dir, base := path.Split(g)
		hdr := &tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return nil
}

// Image stacks layers into an image with history and a config.
func Image(layers []Layer, cfg v1.Config, created time.Time) (v1.Image, error) {
	img := empty.Image
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	for _, l := range layers {
		tl, err := tarball.LayerFromFile(l.Tar)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Tar, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   tl,
			History: v1.History{CreatedBy: l.CreatedBy, Created: v1.Time{Time: created}},
		})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.Created = v1.Time{Time: created}
	cf.Architecture = "amd64"
	cf.OS = "linux"
	return mutate.ConfigFile(img, cf)
}

// WriteDockerArchive writes img as a `docker save` tarball tagged tag,
// with uncompressed layers as docker writes them (go-containerregistry's
// tarball package would store them gzipped).
func WriteDockerArchive(out, tag string, img v1.Image) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	return writeTar(out, func(tw *tar.Writer) error {
		type entry struct {
			Config   string
			RepoTags []string
			Layers   []string
		}
		m := entry{Config: cfgName.Hex + ".json", RepoTags: []string{t.String()}}
		if err := addBytes(tw, m.Config, rawCfg); err != nil {
			return err
		}
		for _, l := range layers {
			d, err := l.DiffID()
			if err != nil {
				return err
			}
			name := d.Hex + "/layer.tar"
			if err := addLayer(tw, name, l); err != nil {
				return err
			}
			m.Layers = append(m.Layers, name)
		}
		b, err := json.Marshal([]entry{m})
		if err != nil {
			return err
		}
		return addBytes(tw, "manifest.json", b)
	})
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(b)), Mode: 0o644}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addLayer(tw *tar.Writer, name string, l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	// The size must be known before the header: count first.
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return err
	}
	rc.Close()
	if rc, err = l.Uncompressed(); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: n, Mode: 0o644}); err != nil {
		return err
	}
	_, err = io.Copy(tw, rc)
	return err
}

// WriteOCILayout writes img to an OCI layout at dir with gzip layers,
// annotated with tag.
func WriteOCILayout(dir, tag string, img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	// Rebuild with OCI media types: layers are compressed as they are
	// written.
	oimg := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	oimg = mutate.ConfigMediaType(oimg, types.OCIConfigJSON)
	for i, l := range layers {
		var h v1.History
		if i < len(cf.History) {
			h = cf.History[i]
		}
		oimg, err = mutate.Append(oimg, mutate.Addendum{Layer: l, History: h, MediaType: types.OCILayer})
		if err != nil {
			return err
		}
	}
	ncf, err := oimg.ConfigFile()
	if err != nil {
		return err
	}
	ncf = ncf.DeepCopy()
	ncf.Config, ncf.Created, ncf.Architecture, ncf.OS = cf.Config, cf.Created, cf.Architecture, cf.OS
	if oimg, err = mutate.ConfigFile(oimg, ncf); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(oimg, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}
