package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// migrations are applied in order, each once, in a transaction. They are
// shared by both backends: "{{id}}" becomes the dialect's auto-assigned
// primary key. Append only; never edit a released migration.
//
// Times are unix microseconds (BIGINT) and booleans 0/1 (INTEGER), which
// both backends store and compare the same way. Container and image rows
// keep their full JSON in data; the other columns are for queries.
var migrations = []string{
	// 1: inventory snapshots.
	`CREATE TABLE snapshots (
		id       {{id}},
		host     TEXT NOT NULL,
		taken_at BIGINT NOT NULL,
		partial  INTEGER NOT NULL DEFAULT 0,
		meta     TEXT NOT NULL
	);
	CREATE INDEX snapshots_host_time ON snapshots (host, taken_at);
	CREATE TABLE snapshot_containers (
		snapshot_id  BIGINT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
		container_id TEXT NOT NULL,
		name         TEXT NOT NULL,
		runtime      TEXT NOT NULL,
		image        TEXT NOT NULL,
		image_id     TEXT NOT NULL,
		state        TEXT NOT NULL,
		unmanaged    INTEGER NOT NULL DEFAULT 0,
		data         TEXT NOT NULL,
		PRIMARY KEY (snapshot_id, container_id)
	);
	CREATE INDEX snapshot_containers_image ON snapshot_containers (image_id);
	CREATE TABLE snapshot_images (
		snapshot_id BIGINT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
		image_id    TEXT NOT NULL,
		data        TEXT NOT NULL,
		PRIMARY KEY (snapshot_id, image_id)
	);`,
}

// SchemaVersion is the number of migrations this build knows.
var SchemaVersion = len(migrations)

// migrate brings the schema up to SchemaVersion. A database migrated by a
// newer bulkhead is refused rather than written with an old schema.
func (s *sqlStore) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.d.name == "postgres" {
		// Serialise concurrent first runs (several agents, one server).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7262021)`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return err
	}
	if cur > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this bulkhead knows (%d); upgrade bulkhead", cur, len(migrations))
	}
	for v := cur + 1; v <= len(migrations); v++ {
		for _, stmt := range splitStatements(strings.ReplaceAll(migrations[v-1], "{{id}}", s.d.idCol)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return tx.Commit()
}

// splitStatements splits a migration on ";" (migrations hold no literals
// with semicolons).
func splitStatements(m string) []string {
	var out []string
	for _, s := range strings.Split(m, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
