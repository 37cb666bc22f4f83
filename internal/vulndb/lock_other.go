//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vulndb

import (
	"context"
	"io"
)

// lockDir is a no-op where flock is not available: concurrent writers each
// produce a complete DB and the last rename wins.
func lockDir(ctx context.Context, dir string, progress io.Writer) (unlock func(), err error) {
	return func() {}, nil
}
