package drift

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// hashPrefix is how many hex digits of a sha256 findings show.
const hashPrefix = 16

// plan sorts docker diff entries into what needs reading.
type plan struct {
	files []string // added or changed, not known to be directories
	added map[string]bool
	// addedDirs are the topmost added directories: everything below them
	// is new, and one archive of each brings all of it.
	addedDirs []string
	deleted   []string
	pkgdb     []string // package database files added, changed or deleted
}

// planChanges sorts the diff. A path with changed children is a directory
// (docker lists the parents of every change) and is not read.
func planChanges(changes []container.FilesystemChange) *plan {
	parents := map[string]bool{}
	for _, c := range changes {
		p := path.Clean("/" + c.Path)
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if parents[d] {
				break
			}
			parents[d] = true
		}
	}
	pl := &plan{added: map[string]bool{}}
	addedDir := map[string]bool{}
	for _, c := range changes {
		if c.Kind == container.ChangeAdd && parents[path.Clean("/"+c.Path)] {
			addedDir[path.Clean("/"+c.Path)] = true
		}
	}
	for _, c := range changes {
		p := path.Clean("/" + c.Path)
		if isPackageDB(p) {
			pl.pkgdb = append(pl.pkgdb, p)
		}
		switch c.Kind {
		case container.ChangeDelete:
			pl.deleted = append(pl.deleted, p)
		case container.ChangeAdd, container.ChangeModify:
			if parents[p] {
				if addedDir[p] && !addedDir[path.Dir(p)] {
					pl.addedDirs = append(pl.addedDirs, p)
				}
				continue
			}
			if c.Kind == container.ChangeAdd {
				pl.added[p] = true
			}
			pl.files = append(pl.files, p)
		}
	}
	return pl
}

// imagePaths are the paths whose image version the check needs.
func (pl *plan) imagePaths() map[string]bool {
	want := map[string]bool{}
	for _, p := range pl.files {
		if !pl.added[p] {
			want[p] = true
		}
	}
	for _, p := range pl.deleted {
		want[p] = true
	}
	for _, p := range pl.pkgdb {
		want[p] = true
	}
	return want
}

// systemDir reports whether p is under a directory whose every change
// matters: /usr, /bin, /sbin, /lib*, /etc.
func systemDir(p string) bool {
	top, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch {
	case top == "usr" || top == "bin" || top == "sbin" || top == "etc":
		return true
	case strings.HasPrefix(top, "lib"):
		return true
	}
	return false
}

// fileState is a file as read from one side, image or container.
type fileState struct {
	mode      fs.FileMode
	size      int64
	link      string
	ftype     FileType // what a regular file's first bytes say it is
	sha256    string   // hex, of the first MaxRead bytes
	truncated bool     // larger than MaxRead
	content   []byte   // whole content, for package databases only
	metacopy  bool     // an overlayfs metadata-only copy-up: data as in the image
}

func (f *fileState) isDir() bool     { return f.mode.IsDir() }
func (f *fileState) isLink() bool    { return f.mode&fs.ModeSymlink != 0 }
func (f *fileState) isRegular() bool { return f.mode.IsRegular() }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// hashBounded hashes the first max bytes of r and keeps its first
// SniffSize bytes; keep > 0 also keeps up to keep bytes of content.
func hashBounded(r io.Reader, max int64, keep int64) (sum string, head, content []byte, n int64, err error) {
	h := sha256.New()
	var headBuf, contentBuf []byte
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for n < max {
		want := int64(len(buf))
		if max-n < want {
			want = max - n
		}
		m, rerr := r.Read(buf[:want])
		if m > 0 {
			h.Write(buf[:m])
			if len(headBuf) < SniffSize {
				take := min(m, SniffSize-len(headBuf))
				headBuf = append(headBuf, buf[:take]...)
			}
			if keep > 0 && int64(len(contentBuf)) < keep {
				take := min(int64(m), keep-int64(len(contentBuf)))
				contentBuf = append(contentBuf, buf[:take]...)
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", nil, nil, n, rerr
		}
	}
	return hex.EncodeToString(h.Sum(nil)), headBuf, contentBuf, n, nil
}

// errGone marks a path that no longer exists in the container.
var errGone = errors.New("no longer in the container")

// errContainerGone marks a container removed during the check.
var errContainerGone = errors.New("container removed during the check")

func isNoSuchContainer(err error) bool {
	return client.IsErrNotFound(err) && strings.Contains(strings.ToLower(err.Error()), "no such container")
}

// readContainerFile reads one path from the container with
// CopyFromContainer: its stat, and for a regular file its first bytes and
// bounded hash. A directory's archive is never read past its first header.
func readContainerFile(ctx context.Context, cli Client, id, p string, maxRead, keep int64) (*fileState, error) {
	rc, st, err := cli.CopyFromContainer(ctx, id, p)
	if err != nil {
		// Both a missing file and a missing container are 404s.
		if isNoSuchContainer(err) {
			return nil, errContainerGone
		}
		if client.IsErrNotFound(err) {
			return nil, errGone
		}
		return nil, err
	}
	defer rc.Close()
	f := &fileState{mode: st.Mode, size: st.Size, link: st.LinkTarget}
	if !f.isRegular() {
		return f, nil
	}
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read %s from container: %w", p, err)
	}
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
		return f, nil
	}
	f.size = hdr.Size
	sum, head, content, n, err := hashBounded(tr, maxRead, keep)
	if err != nil {
		return nil, fmt.Errorf("read %s from container: %w", p, err)
	}
	f.sha256, f.content, f.ftype = sum, content, Sniff(head, f.mode)
	f.truncated = n < hdr.Size
	return f, nil
}

// checkFiles reads every added or changed file from the container and
// turns the diff into findings.
// dirReader reads every file below a directory of the container in one
// pass, calling fn for each; what it cannot read is left to a fileReader.
type dirReader func(ctx context.Context, dir string, fn func(p string, f *fileState)) error

// fileReader reads one path of the container.
type fileReader func(ctx context.Context, p string, maxRead, keep int64) (*fileState, error)

// checkFiles returns how many paths were gone when read.
func (d *Detector) checkFiles(ctx context.Context, res *Result, pl *plan, img *imageIndex, read fileReader, batch dirReader) (int, error) {
	type job struct {
		path string
		old  *fileState
		cur  *fileState
		err  error
	}
	var jobs []*job
	for _, p := range pl.files {
		var old *fileState
		if !pl.added[p] && img != nil {
			old = img.files[p]
			if old != nil && old.isDir() {
				continue
			}
		}
		jobs = append(jobs, &job{path: p, old: old})
	}
	// Through the API, one archive per added directory replaces a request
	// per file below it.
	if batch != nil && len(pl.addedDirs) > 0 {
		byPath := map[string]*job{}
		for _, j := range jobs {
			byPath[j.path] = j
		}
		for _, dir := range pl.addedDirs {
			if err := batch(ctx, dir, func(p string, f *fileState) {
				if j := byPath[p]; j != nil {
					j.cur = f
				}
			}); err != nil {
				if errors.Is(err, errContainerGone) {
					return 0, fmt.Errorf("container %s: %w", res.Container.Name, errContainerGone)
				}
				// The per-file reads below fetch what the archive did not.
				continue
			}
		}
	}
	var pending []*job
	for _, j := range jobs {
		if j.cur == nil {
			pending = append(pending, j)
		}
	}
	ch := make(chan *job)
	var wg sync.WaitGroup
	for range min(d.opts.Parallel, max(len(pending), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				j.cur, j.err = read(ctx, j.path, d.opts.MaxRead, 0)
			}
		}()
	}
feed:
	for _, j := range pending {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	gone := 0
	for _, j := range jobs {
		switch {
		case errors.Is(j.err, errGone):
			gone++
			continue
		case errors.Is(j.err, errContainerGone):
			return 0, fmt.Errorf("container %s: %w", res.Container.Name, errContainerGone)
		case j.err != nil:
			res.warnf("%s: %v", j.path, j.err)
			continue
		}
		if f, ok := classifyFile(j.path, pl.added[j.path], j.old, j.cur); ok {
			res.Findings = append(res.Findings, f)
		}
	}
	for _, p := range pl.deleted {
		var old *fileState
		if img != nil {
			old = img.files[p]
		}
		res.Findings = append(res.Findings, classifyDeleted(p, old))
	}
	return gone, nil
}

// classifyFile turns one added or changed path into a finding, or none
// when the change does not matter (a plain file outside system
// directories, a directory, an unchanged rewrite).
func classifyFile(p string, added bool, old, cur *fileState) (Finding, bool) {
	if cur.isDir() {
		return Finding{}, false
	}
	if cur.metacopy && old != nil && old.isRegular() {
		c := *cur
		c.sha256, c.ftype, c.truncated = old.sha256, old.ftype, old.truncated
		cur = &c
	}
	if old == nil {
		added = true
	}
	f := Finding{Path: p, Detail: Detail{Change: "C"}}
	if added {
		f.Detail.Change = "A"
	}
	f.Detail.NewSize = ptr(cur.size)
	f.Detail.NewMode = cur.mode.String()
	f.Detail.NewSHA256 = short(cur.sha256)
	f.Detail.Truncated = cur.truncated
	if old != nil {
		f.Detail.OldSize = ptr(old.size)
		f.Detail.OldMode = old.mode.String()
		f.Detail.OldSHA256 = short(old.sha256)
		f.Detail.Truncated = f.Detail.Truncated || old.truncated
	}
	if cur.isLink() {
		if !systemDir(p) {
			return Finding{}, false
		}
		f.Detail.FileType = "symlink"
		f.Detail.LinkTarget = cur.link
		f.Detail.NewSize, f.Detail.OldSize = nil, nil
		if old != nil && old.isLink() && old.link == cur.link {
			return Finding{}, false
		}
		f.Kind, f.Severity = KindModified, low
		if added {
			f.Kind = KindAdded
		}
		if strings.HasPrefix(p, "/etc/") {
			f.Severity = medium
		}
		return f, true
	}
	if !cur.isRegular() {
		// Devices, fifos, sockets: only under system directories.
		if !systemDir(p) {
			return Finding{}, false
		}
		f.Kind, f.Severity = KindModified, low
		if added {
			f.Kind = KindAdded
		}
		f.Detail.Note = "not a regular file"
		return f, true
	}
	ft := cur.ftype
	f.Detail.FileType = ft.String()
	sameContent := old != nil && old.isRegular() && old.size == cur.size && old.sha256 == cur.sha256
	if sameContent {
		// A copy-up without a content change (touch, chown, chmod): worth
		// saying only if the mode changed, a new setuid bit above all.
		if old.mode == cur.mode {
			return Finding{}, false
		}
		f.Kind, f.Severity = KindModified, low
		f.Detail.Note = "mode changed, content unchanged"
		if cur.mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 && old.mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
			f.Severity = high
			f.Detail.Note = "setuid/setgid bit added, content unchanged"
		}
		return f, true
	}
	elfish := ft == TypeExecutable || ft == TypeLibrary || ft == TypeELFOther
	switch {
	case LibraryName(p) && (elfish || systemDir(p)), ft == TypeLibrary:
		f.Kind, f.Severity = KindModifiedLibrary, medium
		if added {
			f.Kind = KindAddedLibrary
		}
	case ft.Runnable():
		f.Kind, f.Severity = KindModifiedExecutable, high
		if added {
			f.Kind = KindAddedExecutable
		}
	case systemDir(p):
		f.Kind, f.Severity = KindModified, low
		if added {
			f.Kind = KindAdded
		}
		if strings.HasPrefix(p, "/etc/") {
			f.Severity = medium
		}
	default:
		return Finding{}, false
	}
	return f, true
}

func classifyDeleted(p string, old *fileState) Finding {
	f := Finding{Path: p, Kind: KindDeleted, Severity: low, Detail: Detail{Change: "D"}}
	if strings.HasPrefix(p, "/etc/") {
		f.Severity = medium
	}
	if old != nil {
		f.Detail.OldMode = old.mode.String()
		switch {
		case old.isDir():
			f.Detail.FileType = "directory"
		case old.isLink():
			f.Detail.FileType = "symlink"
			f.Detail.LinkTarget = old.link
		case old.isRegular():
			f.Detail.OldSize = ptr(old.size)
			f.Detail.OldSHA256 = short(old.sha256)
			f.Detail.FileType = old.ftype.String()
		}
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func short(sum string) string {
	if len(sum) > hashPrefix {
		return sum[:hashPrefix]
	}
	return sum
}

var kindOrder = map[Kind]int{
	KindExecNotInImage: 0, KindExecModified: 1, KindAddedExecutable: 2, KindModifiedExecutable: 3,
	KindAddedLibrary: 4, KindModifiedLibrary: 5, KindModified: 6, KindAdded: 7, KindDeleted: 8,
	KindPackageInstalled: 9, KindPackageRemoved: 10, KindPackageChanged: 11,
}

func severityRank(s string) int {
	switch s {
	case high:
		return 3
	case medium:
		return 2
	case low:
		return 1
	}
	return 0
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Container.ID != b.Container.ID {
			return a.Container.Name < b.Container.Name
		}
		if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Kind != b.Kind {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Detail.Package < b.Detail.Package
	})
}

// maxDirStream bounds the archive bytes read for one added directory; the
// files beyond are read one by one (each bounded by MaxRead).
const maxDirStream = 256 << 20

// readContainerDir reads an added directory of the container with one
// CopyFromContainer archive: every regular file's first MaxRead bytes are
// hashed. It stops after maxDirStream archive bytes.
func readContainerDir(ctx context.Context, cli Client, id, dir string, maxRead int64, fn func(p string, f *fileState)) error {
	rc, st, err := cli.CopyFromContainer(ctx, id, dir)
	if err != nil {
		if isNoSuchContainer(err) {
			return errContainerGone
		}
		return err
	}
	defer rc.Close()
	if !st.Mode.IsDir() {
		return fmt.Errorf("%s is no longer a directory", dir)
	}
	budget := &io.LimitedReader{R: rc, N: maxDirStream}
	tr := tar.NewReader(budget)
	parent := path.Dir(dir)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive of %s: %w", dir, err)
		}
		p := path.Join(parent, path.Clean("/"+hdr.Name))
		if p != dir && !strings.HasPrefix(p, dir+"/") {
			continue // not below the directory asked for: ignored
		}
		info := hdr.FileInfo()
		f := &fileState{mode: info.Mode(), size: hdr.Size, link: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			sum, head, _, n, err := hashBounded(tr, maxRead, 0)
			if err != nil {
				return fmt.Errorf("read archive of %s: %w", dir, err)
			}
			f.sha256, f.ftype, f.truncated = sum, Sniff(head, f.mode), n < hdr.Size
			if n < hdr.Size && budget.N < hdr.Size-n {
				// Skipping the rest would go over the budget: stop here and
				// leave this file and the rest to single reads.
				return fmt.Errorf("archive of %s exceeds %d bytes", dir, maxDirStream)
			}
		} else if hdr.Typeflag == tar.TypeLink {
			continue // a hardlink's content is its target's: read it singly
		}
		fn(p, f)
	}
}
