package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/layer"
	"github.com/bulkhead-sec/bulkhead/internal/squash"
)

// memLimit is the largest file held in memory for analysis; bigger wanted
// files are spooled to a private temp file.
const memLimit = 32 << 20

type fileAnalyzer struct {
	group   *analyzer.Group
	tempDir string
	maxSize int64
	// bufs recycles the buffers files are read into: analyzers do not keep
	// Content after Analyze returns.
	bufs sync.Pool
}

func (fa *fileAnalyzer) max() int64 {
	if fa.maxSize > 0 {
		return fa.maxSize
	}
	return analyzer.DefaultMaxFileSize
}

// analyze reads one wanted file from r and runs the analyzers on it.
func (fa *fileAnalyzer) analyze(ctx context.Context, as []analyzer.Analyzer, p string, info fs.FileInfo, r io.Reader) ([]analyzer.FileResult, error) {
	size := info.Size()
	if size > fa.max() {
		var out []analyzer.FileResult
		for _, a := range as {
			out = append(out, analyzer.FileResult{Path: p, Analyzer: a.Name(),
				Error: fmt.Sprintf("skipped: %d bytes is over the %d-byte limit for analyzed files", size, fa.max())})
		}
		return out, nil
	}
	var content analyzer.Content
	if size <= memLimit {
		bp, _ := fa.bufs.Get().(*[]byte)
		if bp == nil {
			bp = new([]byte)
		}
		defer fa.bufs.Put(bp)
		if int64(cap(*bp)) < size {
			*bp = make([]byte, size)
		}
		buf := (*bp)[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		content = bytes.NewReader(buf)
	} else {
		if err := os.MkdirAll(fa.tempDir, 0o700); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(fa.tempDir, "file-*")
		if err != nil {
			return nil, fmt.Errorf("spool %s: %w", p, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.CopyN(f, r, size); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		content = f
	}
	return analyzer.Run(ctx, as, analyzer.Input{Path: p, Info: info, Content: content, TempDir: fa.tempDir}), nil
}

type pendingLink struct {
	path, target string
	info         fs.FileInfo
}

// analyzeLayer walks one layer stream once and returns what the analyzers
// found. Hardlinks to files the analyzers want are resolved with a second,
// targeted read of the layer only when the layer has such links.
func (fa *fileAnalyzer) analyzeLayer(ctx context.Context, open func() (io.ReadCloser, error)) (*squash.LayerResult, *layer.Summary, error) {
	rc, err := open()
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	lr := &squash.LayerResult{}
	var pending []pendingLink
	// Results of the files analyzed in this layer, by path: a hardlink to
	// one of them gets a copy, with no second read of the layer.
	analyzed := map[string][]analyzer.FileResult{}
	sum, err := layer.Walk(ctx, rc, func(e *layer.Entry) error {
		switch {
		case e.Reader != nil:
			as, skipped := fa.group.Select(e.Path, e.Info)
			lr.Files = append(lr.Files, skipped...)
			if len(as) == 0 {
				return nil
			}
			frs, err := fa.analyze(ctx, as, e.Path, e.Info, e.Reader)
			if err != nil {
				return err
			}
			lr.Files = append(lr.Files, frs...)
			analyzed[e.Path] = frs
		case e.Header.Typeflag == tar.TypeLink:
			// A hardlink has no size of its own; ask with the path only.
			as, _ := fa.group.Select(e.Path, zeroSize{e.Info})
			if len(as) == 0 {
				return nil
			}
			t, _ := layer.CleanPath(e.Header.Linkname)
			if frs, ok := linkResults(analyzed[t], as, e.Path); ok {
				lr.Files = append(lr.Files, frs...)
				return nil
			}
			pending = append(pending, pendingLink{path: e.Path, target: t, info: e.Info})
		}
		return nil
	})
	if err != nil {
		return nil, sum, err
	}
	if len(pending) > 0 {
		frs, err := fa.resolveLinks(ctx, open, pending)
		if err != nil {
			return nil, sum, fmt.Errorf("resolve hardlinks: %w", err)
		}
		lr.Files = append(lr.Files, frs...)
	}
	lr.Whiteouts = sum.Whiteouts
	lr.OpaqueDirs = sum.OpaqueDirs
	if len(sum.Symlinks) > 0 {
		lr.Symlinks = sum.Symlinks
	}
	lr.Warnings = sum.Warnings
	lr.FileCount = sum.Files
	lr.Bytes = sum.Bytes
	lr.DiffID = sum.DiffID
	return lr, sum, nil
}

func (fa *fileAnalyzer) resolveLinks(ctx context.Context, open func() (io.ReadCloser, error), pending []pendingLink) ([]analyzer.FileResult, error) {
	byTarget := map[string][]pendingLink{}
	for _, p := range pending {
		byTarget[p.target] = append(byTarget[p.target], p)
	}
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []analyzer.FileResult
	_, err = layer.Walk(ctx, rc, func(e *layer.Entry) error {
		links := byTarget[e.Path]
		if e.Reader == nil || len(links) == 0 {
			return nil
		}
		size := e.Info.Size()
		if size > memLimit {
			return nil
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(e.Reader, buf); err != nil {
			return err
		}
		for _, l := range links {
			// Asked again with the target's size: a Limited analyzer may
			// refuse it.
			as, skipped := fa.group.Select(l.path, e.Info)
			out = append(out, skipped...)
			frs, err := fa.analyze(ctx, as, l.path, e.Info, bytes.NewReader(buf))
			if err != nil {
				return err
			}
			out = append(out, frs...)
		}
		delete(byTarget, e.Path)
		return nil
	})
	return out, err
}

// linkResults copies the target's results to a hardlink when every
// analyzer that wants the link already looked at the target: the link is
// the same file under another name.
func linkResults(target []analyzer.FileResult, as []analyzer.Analyzer, link string) ([]analyzer.FileResult, bool) {
	if target == nil {
		return nil, false
	}
	by := map[string]analyzer.FileResult{}
	for _, fr := range target {
		by[fr.Analyzer] = fr
	}
	out := make([]analyzer.FileResult, 0, len(as))
	for _, a := range as {
		fr, ok := by[a.Name()]
		if !ok {
			return nil, false
		}
		out = append(out, relocate(fr, link))
	}
	return out, true
}

// relocate returns a copy of fr as found at path p.
func relocate(fr analyzer.FileResult, p string) analyzer.FileResult {
	old := fr.Path
	fr.Path = p
	if fr.Result == nil {
		return fr
	}
	r := *fr.Result
	r.Packages = append([]inventory.Package(nil), r.Packages...)
	for i := range r.Packages {
		locs := append([]inventory.Location(nil), r.Packages[i].Locations...)
		for j := range locs {
			if locs[j].Path == old {
				locs[j].Path = p
			}
		}
		r.Packages[i].Locations = locs
	}
	r.Secrets = append([]inventory.Secret(nil), r.Secrets...)
	for i := range r.Secrets {
		if r.Secrets[i].Path == old {
			r.Secrets[i].Path = p
		}
	}
	r.Malware = append([]inventory.Malware(nil), r.Malware...)
	for i := range r.Malware {
		if r.Malware[i].Path == old {
			r.Malware[i].Path = p
		}
	}
	r.Misconfigs = append(r.Misconfigs[:0:0], r.Misconfigs...)
	for i := range r.Misconfigs {
		if r.Misconfigs[i].Path == old {
			r.Misconfigs[i].Path = p
		}
	}
	fr.Result = &r
	return fr
}

type zeroSize struct{ fs.FileInfo }

func (zeroSize) Size() int64 { return 0 }

// skipDirs are never descended into in a directory scan of a root
// filesystem: they are virtual or hold no installed software.
var skipDirs = map[string]bool{"/proc": true, "/sys": true, "/dev": true}

// analyzeDir walks a directory tree as one pseudo-layer. Symlinks are
// recorded, never followed.
func (fa *fileAnalyzer) analyzeDir(ctx context.Context, root string) (*squash.LayerResult, error) {
	lr := &squash.LayerResult{Symlinks: map[string]string{}}
	err := filepath.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(root, fp)
		if rerr != nil {
			return rerr
		}
		p := "/" + filepath.ToSlash(rel)
		if rel == "." {
			p = "/"
		}
		if err != nil {
			lr.Warnings = append(lr.Warnings, fmt.Sprintf("%s: %v", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			if skipDirs[p] {
				return fs.SkipDir
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			if t, err := os.Readlink(fp); err == nil {
				lr.Symlinks[p] = t
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			lr.Warnings = append(lr.Warnings, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		lr.FileCount++
		as, skipped := fa.group.Select(p, info)
		lr.Files = append(lr.Files, skipped...)
		if len(as) == 0 {
			return nil
		}
		f, err := os.Open(fp)
		if err != nil {
			lr.Warnings = append(lr.Warnings, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		defer f.Close()
		frs, err := fa.analyze(ctx, as, p, info, f)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			lr.Warnings = append(lr.Warnings, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		lr.Bytes += info.Size()
		lr.Files = append(lr.Files, frs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(lr.Symlinks) == 0 {
		lr.Symlinks = nil
	}
	return lr, nil
}
