// Package cache stores per-layer analysis results on disk, keyed by the
// layer's diffID and the versions of the analyzers that produced them, so a
// layer already seen (a shared base image, a re-scan) is never read again.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bulkhead-sec/bulkhead/internal/squash"
)

// schema is bumped when LayerResult's encoding changes or the core adds
// to it (v2: size-limit warnings of Limited analyzers).
const schema = 2

// Layers is a directory of cached layer results.
type Layers struct {
	dir string
}

// Open returns the layer cache under dir (created on first write).
func Open(dir string) *Layers {
	return &Layers{dir: filepath.Join(dir, "layers")}
}

// Key derives the cache key of a layer analysed by a set of analyzers.
func Key(diffID, analyzerVersions string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("v%d\x00%s\x00%s", schema, diffID, analyzerVersions)))
	return hex.EncodeToString(h[:])
}

func (c *Layers) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// Get returns the cached result, or nil when there is none. A corrupt entry
// counts as a miss and is removed.
func (c *Layers) Get(key string) (*squash.LayerResult, error) {
	p := c.path(key)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read layer cache: %w", err)
	}
	var lr squash.LayerResult
	if err := json.Unmarshal(b, &lr); err != nil {
		_ = os.Remove(p)
		return nil, nil
	}
	return &lr, nil
}

// Put stores a result atomically: readers never see a partial entry.
func (c *Layers) Put(key string, lr *squash.LayerResult) error {
	b, err := json.Marshal(lr)
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("write layer cache: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write layer cache: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write layer cache: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write layer cache: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write layer cache: %w", err)
	}
	return nil
}

// DefaultDir is $XDG_CACHE_HOME/bulkhead (or the OS cache dir).
func DefaultDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "bulkhead")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "bulkhead")
	}
	return filepath.Join(os.TempDir(), "bulkhead-cache")
}
