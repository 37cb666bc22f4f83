// Package analyzertest holds what analyzer tests share: a file's
// fs.FileInfo without a file behind it.
package analyzertest

import (
	"io/fs"
	"time"
)

// Info is the fs.FileInfo of a regular file: all Required looks at.
type Info struct {
	FileName string
	FileSize int64
	FileMode fs.FileMode
}

// File returns the info of a regular 0644 file of size bytes.
func File(size int64) Info { return Info{FileSize: size, FileMode: 0o644} }

func (i Info) Name() string       { return i.FileName }
func (i Info) Size() int64        { return i.FileSize }
func (i Info) Mode() fs.FileMode  { return i.FileMode }
func (i Info) ModTime() time.Time { return time.Time{} }
func (i Info) IsDir() bool        { return i.FileMode.IsDir() }
func (i Info) Sys() any           { return nil }

var _ fs.FileInfo = Info{}
