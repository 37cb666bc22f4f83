//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// lockDir takes the writers' lock of the DB directory: an flock on
// <dir>/lock, released by the kernel if the process dies. It waits for
// another writer while ctx allows, saying so on progress.
func lockDir(ctx context.Context, dir string, progress io.Writer) (unlock func(), err error) {
	path := dir + string(os.PathSeparator) + "lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the vulnerability database: %w", err)
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking the vulnerability database (%s): %w", path, err)
		}
		if !said && progress != nil {
			fmt.Fprintf(progress, "waiting for another `bulkhead db update` or `db import` to finish (lock %s)\n", path)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s held by another bulkhead db update or import: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
