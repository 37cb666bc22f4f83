package drift

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// hostDir reads a container's changed files straight from its overlay2
// upper directory on this host: what docker diff itself walks, and
// hundreds of times faster than one CopyFromContainer request per file.
// Every path is resolved beneath the directory with no symlink followed,
// so a container that swaps a directory for a link to the host's / reads
// nothing outside its own layer.
type hostDir struct {
	root string
	fd   int
}

func openHostDir(root string) (*hostDir, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	h := &hostDir{root: root, fd: fd}
	// openat2 appeared in Linux 5.6: without it the API is used.
	probe, err := unix.Openat2(fd, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolveStrict})
	if err != nil {
		h.close()
		return nil, fmt.Errorf("openat2: %w", err)
	}
	unix.Close(probe)
	return h, nil
}

const resolveStrict = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

func (h *hostDir) close() { unix.Close(h.fd) }

func (h *hostDir) read(p string, maxRead, keep int64) (*fileState, error) {
	dir, base := path.Split(path.Clean("/" + p))
	if base == "" {
		return nil, fmt.Errorf("%s: not a file path", p)
	}
	rel := strings.Trim(dir, "/")
	if rel == "" {
		rel = "."
	}
	dfd, err := unix.Openat2(h.fd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolveStrict})
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return nil, errGone
		}
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, errGone
		}
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	f := &fileState{mode: fileMode(st.Mode), size: st.Size}
	switch {
	case f.isLink():
		buf := make([]byte, 4096)
		n, err := unix.Readlinkat(dfd, base, buf)
		if err != nil {
			return nil, fmt.Errorf("readlink %s: %w", p, err)
		}
		f.link = string(buf[:n])
		return f, nil
	case !f.isRegular():
		return f, nil
	}
	// O_NONBLOCK: a file swapped for a fifo after the stat does not hang
	// the read.
	ffd, err := unix.Openat(dfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) {
			return nil, errGone
		}
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	file := os.NewFile(uintptr(ffd), p)
	defer file.Close()
	if err := unix.Fstat(ffd, &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	f.mode, f.size = fileMode(st.Mode), st.Size
	if !f.isRegular() {
		return f, nil
	}
	// With overlayfs metacopy, a chmod or chown copies up the metadata
	// only: the data is still the lower layer's, and reading the upper
	// file gives zeros.
	if _, err := unix.Fgetxattr(ffd, "trusted.overlay.metacopy", nil); err == nil {
		f.metacopy = true
		return f, nil
	}
	sum, head, content, n, err := hashBounded(file, maxRead, keep)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	f.sha256, f.content, f.truncated = sum, content, n < st.Size
	f.ftype = Sniff(head, f.mode)
	return f, nil
}

// fileMode converts a stat mode to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// layerEntry is what one layer directory holds at a path.
type layerEntry int

const (
	entryNone      layerEntry = iota
	entryWhiteout             // overlay whiteout: a 0/0 character device
	entryDir                  // a directory
	entryOpaqueDir            // a directory hiding the lower layers' content
	entryOther                // a file, link or device
)

// lookup says what the directory holds at p, following no symlink.
func (h *hostDir) lookup(p string) (layerEntry, error) {
	rel := strings.Trim(path.Clean("/"+p), "/")
	if rel == "" {
		return entryDir, nil
	}
	fd, err := unix.Openat2(h.fd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: resolveStrict})
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
			return entryNone, nil
		}
		return entryNone, fmt.Errorf("open %s: %w", p, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return entryNone, fmt.Errorf("stat %s: %w", p, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return entryWhiteout, nil
		}
		return entryOther, nil
	case unix.S_IFDIR:
		// xattrs cannot be read through an O_PATH descriptor.
		dfd, err := unix.Openat2(h.fd, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: resolveStrict})
		if err != nil {
			return entryNone, fmt.Errorf("open %s: %w", p, err)
		}
		defer unix.Close(dfd)
		buf := make([]byte, 8)
		if n, err := unix.Fgetxattr(dfd, "trusted.overlay.opaque", buf); err == nil && n == 1 && buf[0] == 'y' {
			return entryOpaqueDir, nil
		}
		return entryDir, nil
	}
	return entryOther, nil
}

// lowerDirs reads an image's files from the overlay2 layer directories a
// container is stacked on (its LowerDir, top layer first, without Docker's
// -init layer), the way overlayfs merges them: no image export needed.
type lowerDirs struct {
	layers []*hostDir
}

func openLowerDirs(lowerDir string) (*lowerDirs, error) {
	l := &lowerDirs{}
	for _, d := range strings.Split(lowerDir, ":") {
		if d == "" || strings.HasSuffix(d, "-init/diff") {
			continue
		}
		h, err := openHostDir(d)
		if err != nil {
			l.close()
			return nil, err
		}
		l.layers = append(l.layers, h)
	}
	if len(l.layers) == 0 {
		return nil, errors.New("no image layers in LowerDir")
	}
	return l, nil
}

func (l *lowerDirs) close() {
	for _, h := range l.layers {
		h.close()
	}
}

// file returns the image's file at p, or nil when the image has none
// there.
func (l *lowerDirs) file(p string, maxRead, keep int64) (*fileState, error) {
	p = path.Clean("/" + p)
	comps := strings.Split(strings.Trim(p, "/"), "/")
	for _, layer := range l.layers {
		found, opaque := false, false
	walk:
		for i := range comps {
			q := "/" + strings.Join(comps[:i+1], "/")
			k, err := layer.lookup(q)
			if err != nil {
				return nil, err
			}
			last := i == len(comps)-1
			switch k {
			case entryNone:
				break walk
			case entryWhiteout:
				return nil, nil // deleted by this layer
			case entryOther:
				if !last {
					return nil, nil // a file here shadows the rest of the path
				}
				found = true
			case entryDir, entryOpaqueDir:
				if last {
					found = true
				} else if k == entryOpaqueDir {
					opaque = true
				}
			}
		}
		if found {
			f, err := layer.read(p, maxRead, keep)
			if errors.Is(err, errGone) {
				return nil, nil
			}
			return f, err
		}
		if opaque {
			return nil, nil // lower layers are hidden below an opaque directory
		}
	}
	return nil, nil
}

// index looks up the wanted paths.
func (l *lowerDirs) index(want map[string]bool, opts Options) (*imageIndex, error) {
	idx := &imageIndex{files: map[string]*fileState{}}
	for p := range want {
		keep, limit := int64(0), opts.MaxRead
		if isPackageDB(p) {
			keep, limit = opts.MaxDB, max(opts.MaxRead, opts.MaxDB)
		}
		f, err := l.file(p, limit, keep)
		if err != nil {
			return nil, err
		}
		if f != nil {
			if keep > 0 && f.size > opts.MaxDB {
				f.content = nil
			}
			idx.files[p] = f
		}
	}
	return idx, nil
}
