package vulndb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SchemaVersion is the layout of vuln.db this code reads and writes. Bump it
// when the tables change: an older DB is then rebuilt by the next update or
// import, never read.
const SchemaVersion = 1

// schema is the DDL of a new DB.
//
// Times are unix microseconds in UTC (OSV's zero date, used by the Go
// database for "modified", fits; nanoseconds would not).
const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per OSV record, the newest "modified" seen for its id.
CREATE TABLE advisories (
	id            TEXT PRIMARY KEY,
	modified      INTEGER NOT NULL,
	published     INTEGER,
	withdrawn     INTEGER,
	summary       TEXT NOT NULL DEFAULT '',
	severity_json TEXT,
	aliases_json  TEXT,
	origin        TEXT NOT NULL,  -- 'import', or 'update:<Ecosystem>' for the export it came from
	digest        BLOB NOT NULL,  -- SHA-256/128 of the JSON: an unchanged record is not rewritten
	rec           BLOB NOT NULL,  -- osv.Vulnerability in the binary form of bin.go, S2-compressed: what lookups decode
	raw           BLOB NOT NULL   -- the OSV JSON as read, zstd-compressed: fidelity, and a source to rebuild rec from
);

-- The lookup index: every (ecosystem with release, normalised name) an
-- advisory names in "affected". Withdrawn advisories have no rows, entries
-- without a package (GIT ranges only) neither.
CREATE TABLE affected (
	ecosystem   TEXT NOT NULL,  -- full OSV ecosystem: 'Debian:12', 'Alpine:v3.20', 'npm'
	name_norm   TEXT NOT NULL,  -- osv.NormalizeName(ecosystem, name)
	advisory_id TEXT NOT NULL,
	PRIMARY KEY (ecosystem, name_norm, advisory_id)
) WITHOUT ROWID;
CREATE INDEX affected_advisory ON affected (advisory_id);

-- Per base ecosystem ('Debian'): counts as of the last build, and where and
-- when its data was last fetched.
CREATE TABLE ecosystems (
	name            TEXT PRIMARY KEY,
	advisories      INTEGER NOT NULL DEFAULT 0,
	newest_modified INTEGER,
	fetched_at      INTEGER,
	source          TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Per ecosystem with release ('Debian:12'): advisory counts.
CREATE TABLE releases (
	ecosystem  TEXT PRIMARY KEY,
	base       TEXT NOT NULL,
	advisories INTEGER NOT NULL
) WITHOUT ROWID;
`

// Meta keys.
const (
	metaSchema  = "schema_version"
	metaBuiltAt = "built_at" // unix microseconds of the last update or import
)

// readDSN opens path read-only. The file is never written in place (a new
// DB replaces it by rename), so it is opened immutable: no locks, no
// journal, and a reader that still has the old file open keeps reading it
// consistently after a swap.
func readDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&immutable=1&_pragma=query_only(1)"
}

// writeDSN opens a DB under construction. Nothing reads it until it is
// complete, so durability is bought once at the end (fsync before the
// rename), not per transaction.
func writeDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=locking_mode(EXCLUSIVE)" +
		"&_pragma=cache_size(-32768)&_pragma=temp_store(FILE)"
}

// readSchemaVersion returns the schema version recorded in db.
func readSchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v string
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaSchema).Scan(&v); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("schema version %q: %w", v, err)
	}
	return n, nil
}
