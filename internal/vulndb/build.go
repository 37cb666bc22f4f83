package vulndb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// tempPrefix names DBs under construction: vuln.db.new-XXXX next to
// vuln.db. Readers never open them; the next writer removes leftovers.
const tempPrefix = "vuln.db.new-"

// commitEvery is the number of records per transaction. The DB under
// construction has no journal, so a transaction only batches work.
const commitEvery = 20_000

// outcome of storing one record.
type outcome int

const (
	added     outcome = iota // a new id
	updated                  // replaced an older or different version
	unchanged                // the same modified and content
	older                    // the DB has a newer version: kept
)

// builder makes a new DB file from a copy of the current one plus new
// records, and swaps it in.
type builder struct {
	dir, final, tmp string
	now             time.Time
	unlock          func()
	db              *sql.DB
	conn            *sql.Conn
	inTx            bool
	pending         int
	stmts           struct {
		get, delAffected, upsert, insAffected, seen *sql.Stmt
	}
	// note, when set, says why an existing DB was not carried over.
	note string
}

// newBuilder locks the DB directory of cacheDir and starts a new DB: a copy
// of the current one when it is readable and of this schema, else an empty
// one (note says why).
func newBuilder(ctx context.Context, cacheDir string, now time.Time, progress io.Writer) (_ *builder, err error) {
	dir := filepath.Join(cacheDir, "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the vulnerability database directory: %w", err)
	}
	unlock, err := lockDir(ctx, dir, progress)
	if err != nil {
		return nil, err
	}
	b := &builder{dir: dir, final: Path(cacheDir), now: now, unlock: unlock}
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	removeLeftovers(dir)

	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating the new vulnerability database: %w", err)
	}
	b.tmp = f.Name()
	copied, note, err := copyIfUsable(ctx, b.final, f)
	b.note = note
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copying the current vulnerability database: %w (is the disk full?)", err)
	}
	if err := os.Chmod(b.tmp, 0o644); err != nil {
		return nil, fmt.Errorf("creating the new vulnerability database: %w", err)
	}

	if b.db, err = sql.Open("sqlite", writeDSN(b.tmp)); err != nil {
		return nil, fmt.Errorf("opening the new vulnerability database: %w", err)
	}
	b.db.SetMaxOpenConns(1)
	if b.conn, err = b.db.Conn(ctx); err != nil {
		return nil, fmt.Errorf("opening the new vulnerability database: %w", err)
	}
	if !copied {
		if _, err := b.conn.ExecContext(ctx, schema); err != nil {
			return nil, fmt.Errorf("creating the vulnerability database schema: %w", err)
		}
	}
	if _, err := b.conn.ExecContext(ctx, `CREATE TEMP TABLE seen (id TEXT PRIMARY KEY) WITHOUT ROWID`); err != nil {
		return nil, fmt.Errorf("preparing the vulnerability database: %w", err)
	}
	for _, s := range []struct {
		p   **sql.Stmt
		sql string
	}{
		{&b.stmts.get, `SELECT modified, digest FROM advisories WHERE id = ?`},
		{&b.stmts.delAffected, `DELETE FROM affected WHERE advisory_id = ?`},
		{&b.stmts.upsert, `INSERT INTO advisories (id, modified, published, withdrawn, summary, severity_json, aliases_json, origin, digest, rec, raw)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, published = excluded.published,
				withdrawn = excluded.withdrawn, summary = excluded.summary, severity_json = excluded.severity_json,
				aliases_json = excluded.aliases_json, origin = excluded.origin, digest = excluded.digest,
				rec = excluded.rec, raw = excluded.raw`},
		{&b.stmts.insAffected, `INSERT OR IGNORE INTO affected (ecosystem, name_norm, advisory_id) VALUES (?, ?, ?)`},
		{&b.stmts.seen, `INSERT OR IGNORE INTO temp.seen (id) VALUES (?)`},
	} {
		if *s.p, err = b.conn.PrepareContext(ctx, s.sql); err != nil {
			return nil, fmt.Errorf("preparing the vulnerability database: %w", err)
		}
	}
	return b, nil
}

// removeLeftovers deletes DBs under construction that a killed writer left
// behind. The caller holds the lock, so none of them is in use.
func removeLeftovers(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// copyIfUsable copies the DB at path into dst when it is one this code can
// extend. It returns false and a note when there is nothing (usable) to
// copy.
func copyIfUsable(ctx context.Context, path string, dst *os.File) (bool, string, error) {
	src, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, fmt.Sprintf("the current DB cannot be read (%v): building a new one", err), nil
	}
	defer src.Close()
	if v, err := schemaOf(ctx, path); err != nil {
		return false, fmt.Sprintf("the current DB is unreadable (%v): building a new one", err), nil
	} else if v != SchemaVersion {
		return false, fmt.Sprintf("the current DB has schema v%d, this bulkhead writes v%d: building a new one; "+
			"ecosystems not fetched or imported now are dropped", v, SchemaVersion), nil
	}
	if _, err := io.Copy(dst, src); err != nil {
		return false, "", err
	}
	return true, "", nil
}

// schemaOf reads the schema version of the DB at path.
func schemaOf(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", readDSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return readSchemaVersion(ctx, db)
}

func (b *builder) begin(ctx context.Context) error {
	if b.inTx {
		return nil
	}
	if _, err := b.conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("writing the vulnerability database: %w", err)
	}
	b.inTx = true
	return nil
}

func (b *builder) commit(ctx context.Context) error {
	if !b.inTx {
		return nil
	}
	b.inTx, b.pending = false, 0
	if _, err := b.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("writing the vulnerability database: %w (is the disk full?)", err)
	}
	return nil
}

// put stores r unless the DB has a newer version of it. Among equal
// "modified" times the record stored last wins; an identical one is not
// rewritten.
func (b *builder) put(ctx context.Context, r *record, origin string, markSeen bool) (outcome, error) {
	if err := b.begin(ctx); err != nil {
		return 0, err
	}
	if markSeen {
		if _, err := b.stmts.seen.ExecContext(ctx, r.id); err != nil {
			return 0, b.writeErr(ctx, r.id, err)
		}
	}
	var mod int64
	var digest []byte
	res := added
	switch err := b.stmts.get.QueryRowContext(ctx, r.id).Scan(&mod, &digest); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, b.writeErr(ctx, r.id, err)
	case r.modified < mod:
		return older, nil
	case r.modified == mod && bytes.Equal(digest, r.digest):
		return unchanged, nil
	default:
		res = updated
		if _, err := b.stmts.delAffected.ExecContext(ctx, r.id); err != nil {
			return 0, b.writeErr(ctx, r.id, err)
		}
	}
	if _, err := b.stmts.upsert.ExecContext(ctx, r.id, r.modified, nullInt(r.published), nullInt(r.withdrawn),
		r.summary, nullText(r.severity), nullText(r.aliases), origin, r.digest, r.rec, r.raw); err != nil {
		return 0, b.writeErr(ctx, r.id, err)
	}
	if r.withdrawn == nil {
		for _, p := range r.pkgs {
			if _, err := b.stmts.insAffected.ExecContext(ctx, p.eco, p.name, r.id); err != nil {
				return 0, b.writeErr(ctx, r.id, err)
			}
		}
	}
	if b.pending++; b.pending >= commitEvery {
		if err := b.commit(ctx); err != nil {
			return 0, err
		}
	}
	return res, nil
}

func (b *builder) writeErr(ctx context.Context, id string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("writing advisory %s to the vulnerability database: %w (is the disk full?)", id, err)
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// removeUnseen deletes the advisories last written from the export origin
// that this build did not see again: osv.dev dropped them.
func (b *builder) removeUnseen(ctx context.Context, origin string) (int, error) {
	if err := b.begin(ctx); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, `DELETE FROM affected WHERE advisory_id IN (
		SELECT id FROM advisories WHERE origin = ? AND id NOT IN (SELECT id FROM temp.seen))`, origin); err != nil {
		return 0, fmt.Errorf("removing advisories dropped from %s: %w", origin, err)
	}
	res, err := b.conn.ExecContext(ctx, `DELETE FROM advisories WHERE origin = ? AND id NOT IN (SELECT id FROM temp.seen)`, origin)
	if err != nil {
		return 0, fmt.Errorf("removing advisories dropped from %s: %w", origin, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// touch records that base ecosystem eco was fetched from source now.
func (b *builder) touch(ctx context.Context, eco, source string) error {
	if err := b.begin(ctx); err != nil {
		return err
	}
	_, err := b.conn.ExecContext(ctx, `INSERT INTO ecosystems (name, fetched_at, source) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET fetched_at = excluded.fetched_at, source = excluded.source`,
		eco, b.now.UnixMicro(), source)
	if err != nil {
		return fmt.Errorf("writing the vulnerability database: %w", err)
	}
	return nil
}

// baseExpr is the SQL for osv.BaseEcosystem(ecosystem).
const baseExpr = `CASE WHEN instr(ecosystem, ':') > 0 THEN substr(ecosystem, 1, instr(ecosystem, ':') - 1) ELSE ecosystem END`

// finish computes the summary tables, writes the metadata, verifies the new
// DB and renames it over the current one. The builder is done afterwards,
// whatever the result.
func (b *builder) finish(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	if err := b.begin(ctx); err != nil {
		return err
	}
	stmts := []string{
		`DELETE FROM releases`,
		`INSERT INTO releases (ecosystem, base, advisories)
			SELECT ecosystem, ` + baseExpr + `, COUNT(DISTINCT advisory_id) FROM affected GROUP BY ecosystem`,
		`UPDATE ecosystems SET advisories = 0, newest_modified = NULL`,
		`INSERT INTO ecosystems (name, advisories, newest_modified)
			SELECT b.base, COUNT(*), MAX(a.modified)
			FROM (SELECT DISTINCT ` + baseExpr + ` AS base, advisory_id FROM affected) b
			JOIN advisories a ON a.id = b.advisory_id
			WHERE true GROUP BY b.base
			ON CONFLICT (name) DO UPDATE SET advisories = excluded.advisories, newest_modified = excluded.newest_modified`,
	}
	for _, s := range stmts {
		if _, err := b.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("summarising the vulnerability database: %w", err)
		}
	}
	var total, withdrawn int64
	if err := b.conn.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(withdrawn) FROM advisories`).Scan(&total, &withdrawn); err != nil {
		return fmt.Errorf("summarising the vulnerability database: %w", err)
	}
	for k, v := range map[string]string{
		metaSchema:   strconv.Itoa(SchemaVersion),
		metaBuiltAt:  strconv.FormatInt(b.now.UnixMicro(), 10),
		"advisories": strconv.FormatInt(total, 10),
		"withdrawn":  strconv.FormatInt(withdrawn, 10),
	} {
		if _, err := b.conn.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("writing the vulnerability database: %w", err)
		}
	}
	if err := b.commit(ctx); err != nil {
		return err
	}
	if err := b.closeDB(); err != nil {
		return fmt.Errorf("writing the vulnerability database: %w", err)
	}
	if err := syncFile(b.tmp); err != nil {
		return fmt.Errorf("writing the vulnerability database: %w (is the disk full?)", err)
	}
	if err := verify(ctx, b.tmp, total); err != nil {
		return fmt.Errorf("the new vulnerability database failed verification, the current one is kept: %w", err)
	}
	if err := os.Rename(b.tmp, b.final); err != nil {
		return fmt.Errorf("replacing the vulnerability database: %w", err)
	}
	b.tmp = ""
	syncDir(b.dir)
	b.unlock()
	b.unlock = nil
	return nil
}

// verify opens the new DB the way readers do and checks it.
func verify(ctx context.Context, path string, advisories int64) error {
	db, err := sql.Open("sqlite", readDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	if v, err := readSchemaVersion(ctx, db); err != nil || v != SchemaVersion {
		return fmt.Errorf("schema version %d, %v", v, err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM advisories`).Scan(&n); err != nil {
		return err
	}
	if n != advisories {
		return fmt.Errorf("%d advisories, want %d", n, advisories)
	}
	return nil
}

func (b *builder) closeDB() error {
	if b.db == nil {
		return nil
	}
	var errs []error
	for _, s := range []*sql.Stmt{b.stmts.get, b.stmts.delAffected, b.stmts.upsert, b.stmts.insAffected, b.stmts.seen} {
		if s != nil {
			s.Close()
		}
	}
	if b.conn != nil {
		errs = append(errs, b.conn.Close())
	}
	errs = append(errs, b.db.Close())
	b.db, b.conn = nil, nil
	return errors.Join(errs...)
}

// abort drops the DB under construction; the current one stays.
func (b *builder) abort() {
	b.closeDB()
	if b.tmp != "" {
		os.Remove(b.tmp)
		b.tmp = ""
	}
	if b.unlock != nil {
		b.unlock()
		b.unlock = nil
	}
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable where the platform allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
