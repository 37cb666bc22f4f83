// Package store keeps inventory snapshots in SQL: SQLite (modernc.org/sqlite,
// pure Go) embedded in the cache directory by default, PostgreSQL (pgx) when
// a postgres:// DSN is given, e.g. for a central server. Both backends share
// one database/sql schema and one list of migrations; only the type of the
// id column and the placeholder syntax differ.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/runtime"
)

// Store keeps snapshots of hosts' containers and images.
type Store interface {
	// SaveSnapshot stores a snapshot and returns its id.
	SaveSnapshot(ctx context.Context, s *runtime.Snapshot) (int64, error)
	// LatestSnapshots returns up to n snapshots of host, newest first.
	LatestSnapshots(ctx context.Context, host string, n int) ([]*runtime.Snapshot, error)
	// Snapshot returns one snapshot by id; ErrNotFound when there is none.
	Snapshot(ctx context.Context, id int64) (*runtime.Snapshot, error)
	// ListSnapshots describes up to limit snapshots of host (all hosts when
	// host is ""), newest first, without their contents.
	ListSnapshots(ctx context.Context, host string, limit int) ([]SnapshotInfo, error)
	// Prune deletes all but the keep newest snapshots of host and returns
	// how many were deleted.
	Prune(ctx context.Context, host string, keep int) (int64, error)
	// Backend is "sqlite" or "postgres".
	Backend() string
	Close() error
}

// SnapshotInfo describes a stored snapshot.
type SnapshotInfo struct {
	ID         int64     `json:"id"`
	Host       string    `json:"host"`
	Time       time.Time `json:"time"`
	Partial    bool      `json:"partial"`
	Containers int       `json:"containers"`
	Images     int       `json:"images"`
}

// ErrNotFound is returned for a snapshot id that does not exist.
var ErrNotFound = errors.New("snapshot not found")

// LatestChanges compares the newest snapshot of host with the earlier one
// it is best compared with (runtime.Baseline). With fewer than two, the
// changes are empty (and Since is zero).
func LatestChanges(ctx context.Context, s Store, host string) (runtime.Changes, error) {
	snaps, err := s.LatestSnapshots(ctx, host, 10)
	if err != nil {
		return runtime.Changes{}, err
	}
	if len(snaps) < 2 {
		return runtime.Diff(nil, nil), nil
	}
	return runtime.Diff(runtime.Baseline(snaps[1:], snaps[0]), snaps[0]), nil
}
