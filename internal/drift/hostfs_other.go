//go:build !linux

package drift

import "errors"

// hostDir reads an overlay2 upper directory; only on Linux.
type hostDir struct{}

func openHostDir(string) (*hostDir, error) {
	return nil, errors.New("reading container layers from the host needs Linux")
}

func (*hostDir) close() {}

func (*hostDir) read(string, int64, int64) (*fileState, error) {
	return nil, errors.New("reading container layers from the host needs Linux")
}

type lowerDirs struct{}

func openLowerDirs(string) (*lowerDirs, error) {
	return nil, errors.New("reading image layers from the host needs Linux")
}

func (*lowerDirs) close() {}

func (*lowerDirs) index(map[string]bool, Options) (*imageIndex, error) {
	return nil, errors.New("reading image layers from the host needs Linux")
}
