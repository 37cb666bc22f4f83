package drift

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sync"

	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/layer"
	"github.com/bulkhead-sec/bulkhead/internal/source"
)

// imageSpool is an image exported from the engine to a temporary file,
// with what earlier checks learned of its paths.
type imageSpool struct {
	file string
	img  *source.Image

	mu      sync.Mutex
	checked map[string]bool       // paths looked up so far
	known   map[string]*fileState // those of them the image holds
}

func (s *imageSpool) close() error {
	err := s.img.Close()
	if rerr := os.Remove(s.file); rerr != nil && err == nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	return err
}

// image exports the image with ID id once per Detector.
func (d *Detector) image(ctx context.Context, id string) (*imageSpool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.images[id]; ok {
		return s, nil
	}
	rc, err := d.cli.ImageSave(ctx, []string{id})
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil, fmt.Errorf("image %s of the container is gone from the engine: nothing to compare with", id)
		}
		return nil, fmt.Errorf("export image %s: %w", id, err)
	}
	defer rc.Close()
	dir := d.opts.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	f, err := os.CreateTemp(dir, "drift-image-*.tar")
	if err != nil {
		return nil, fmt.Errorf("spool image %s: %w (is --cache-dir writable?)", id, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("export image %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("spool image %s: %w", id, err)
	}
	img, err := source.OpenDockerArchive(f.Name())
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	s := &imageSpool{file: f.Name(), img: img, checked: map[string]bool{}, known: map[string]*fileState{}}
	d.images[id] = s
	return s, nil
}

// imageIndex is what the image holds at the paths a check asked for, in
// the merged view a container starts from.
type imageIndex struct {
	files    map[string]*fileState
	warnings []string
}

// index returns the image's files at the wanted paths. Paths an earlier
// check asked for come from memory; the others cost one walk of the layers.
func (s *imageSpool) index(ctx context.Context, want map[string]bool, opts Options) (*imageIndex, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := map[string]bool{}
	for p := range want {
		if !s.checked[p] {
			missing[p] = true
		}
	}
	idx := &imageIndex{files: map[string]*fileState{}}
	if len(missing) > 0 {
		walked, err := s.walk(ctx, missing, opts)
		if err != nil {
			return nil, err
		}
		for p := range missing {
			s.checked[p] = true
			if f := walked.files[p]; f != nil {
				s.known[p] = f
			}
		}
		idx.warnings = walked.warnings
	}
	for p := range want {
		if f := s.known[p]; f != nil {
			idx.files[p] = f
		}
	}
	return idx, nil
}

// walk reads every layer of the image once and records the wanted paths
// as the last layer to touch them left them.
func (s *imageSpool) walk(ctx context.Context, want map[string]bool, opts Options) (*imageIndex, error) {
	idx := &imageIndex{files: map[string]*fileState{}}
	for _, l := range s.img.Layers {
		layerFiles, links, sum, err := walkLayer(ctx, l, want, opts)
		if err != nil {
			return nil, err
		}
		// A hardlink to a file the walk did not keep: walk the layer again
		// for the targets (they precede the link in the tar).
		targets := map[string]bool{}
		for _, t := range links {
			if _, ok := layerFiles[t]; !ok {
				targets[t] = true
			}
		}
		if len(targets) > 0 {
			tf, _, _, err := walkLayer(ctx, l, targets, opts)
			if err != nil {
				return nil, err
			}
			for t, f := range tf {
				layerFiles[t] = f
			}
		}
		for p, t := range links {
			if f, ok := layerFiles[t]; ok && f.isRegular() {
				layerFiles[p] = f
			} else {
				idx.warnings = append(idx.warnings, fmt.Sprintf("layer %d: hardlink %s to %s not resolved", l.Index, p, t))
			}
		}
		for t := range targets {
			if !want[t] {
				delete(layerFiles, t)
			}
		}
		applyWhiteouts(idx.files, sum)
		for p, f := range layerFiles {
			idx.files[p] = f
		}
		idx.warnings = append(idx.warnings, sum.Warnings...)
	}
	return idx, nil
}

// walkLayer records the wanted paths of one layer; hardlinks come back as
// path → target.
func walkLayer(ctx context.Context, l *source.Layer, want map[string]bool, opts Options) (map[string]*fileState, map[string]string, *layer.Summary, error) {
	rc, err := l.Open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rc.Close()
	files := map[string]*fileState{}
	links := map[string]string{}
	sum, err := layer.Walk(ctx, rc, func(e *layer.Entry) error {
		if !want[e.Path] {
			return nil
		}
		h := e.Header
		f := &fileState{mode: e.Info.Mode(), size: h.Size}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			keep, limit := int64(0), opts.MaxRead
			if isPackageDB(e.Path) && h.Size <= opts.MaxDB {
				keep, limit = opts.MaxDB, max(opts.MaxRead, opts.MaxDB)
			}
			sha, head, content, n, err := hashBounded(e.Reader, limit, keep)
			if err != nil {
				return fmt.Errorf("read %s: %w", e.Path, err)
			}
			f.sha256, f.content, f.truncated = sha, content, n < h.Size
			f.ftype = Sniff(head, f.mode)
		case tar.TypeSymlink:
			f.link = h.Linkname
		case tar.TypeLink:
			t, _ := layer.CleanPath(h.Linkname)
			links[e.Path] = t
			return nil
		}
		files[e.Path] = f
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("walk layer %d: %w", l.Index, err)
	}
	return files, links, sum, nil
}

// applyWhiteouts removes what a layer's whiteouts and opaque directories
// hide from the lower layers.
func applyWhiteouts(files map[string]*fileState, sum *layer.Summary) {
	if len(sum.Whiteouts) == 0 && len(sum.OpaqueDirs) == 0 {
		return
	}
	hide := map[string]bool{}
	for _, w := range sum.Whiteouts {
		hide[w] = true
	}
	opq := map[string]bool{}
	for _, d := range sum.OpaqueDirs {
		opq[d] = true
	}
	for p := range files {
		if hide[p] {
			delete(files, p)
			continue
		}
		for d := path.Dir(p); ; d = path.Dir(d) {
			if hide[d] || opq[d] {
				delete(files, p)
				break
			}
			if d == "/" {
				break
			}
		}
	}
}
