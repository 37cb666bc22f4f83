package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// hostFS reads the host's files under a root directory. Symbolic links
// resolve inside the root, as if the root were "/": /var/run → /run stays
// under the root, and a link cannot lead the audit outside it.
type hostFS struct{ root string }

var errLinkLoop = errors.New("too many symbolic links")

// resolve returns the real path of p (absolute, as seen from the host)
// under the root, following symlinks in every component.
func (h hostFS) resolve(p string) (string, error) {
	rest := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := "/"
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(h.real(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > 40 {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: errLinkLoop}
		}
		target, err := os.Readlink(h.real(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
	}
	return cur, nil
}

// real turns a host path into the path on this machine.
func (h hostFS) real(p string) string { return filepath.Join(h.root, filepath.FromSlash(p)) }

// stat follows symlinks (inside the root).
func (h hostFS) stat(p string) (fs.FileInfo, error) {
	r, err := h.resolve(p)
	if err != nil {
		return nil, err
	}
	return os.Lstat(h.real(r))
}

// exists reports whether p exists (any error but "not exist" counts as
// existing so that an unreadable file is still checked and reported).
func (h hostFS) exists(p string) bool {
	_, err := h.stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// readFile reads at most maxFileSize bytes of p.
func (h hostFS) readFile(p string) ([]byte, error) {
	r, err := h.resolve(p)
	if err != nil {
		return nil, err
	}
	// A FIFO or device would block or never end: only regular files are read.
	fi, err := os.Lstat(h.real(r))
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); not read", p, fi.Mode().Type())
	}
	f, err := os.OpenFile(h.real(r), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, maxFileSize)
	}
	return b, nil
}

// glob lists the names in dir matching pattern (host paths).
func (h hostFS) glob(dir, pattern string) ([]string, error) {
	r, err := h.resolve(dir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(h.real(r))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if ok, _ := path.Match(pattern, e.Name()); ok {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out, nil
}
