// Package vulndb is bulkhead's local vulnerability database: OSV advisories
// from osv.dev's per-ecosystem exports (Update) or from files copied in by
// hand (Import), stored in SQLite and indexed by ecosystem and normalised
// package name for the matcher (Lookup).
//
// The DB is one file, <cacheDir>/db/vuln.db. It is never modified in place:
// Update and Import build a new file next to it (a copy of the old one plus
// the new records), verify it, fsync it and rename it over the old one. A
// reader therefore sees the old DB or the new one, never a mix, and a crash
// at any point leaves the old DB as it was. Writers take a lock file so two
// updates do not lose each other's records.
package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// Errors callers branch on.
var (
	// ErrNoDB: there is no DB yet. The message names the commands that
	// create one.
	ErrNoDB = errors.New("no vulnerability database")
	// ErrSchema: the DB was written by a bulkhead with another layout.
	ErrSchema = errors.New("vulnerability database has an incompatible schema")
	// ErrStale: the DB is older than the age the caller accepts.
	ErrStale = errors.New("vulnerability database is out of date")
)

// DefaultMaxAge is the age past which a DB is reported stale.
const DefaultMaxAge = 7 * 24 * time.Hour

// DefaultEcosystems are the OSV exports Update fetches by default: the
// distributions and language ecosystems bulkhead catalogs.
func DefaultEcosystems() []string {
	return []string{
		osv.Debian, osv.Ubuntu, osv.Alpine, osv.RedHat, osv.Rocky, osv.AlmaLinux,
		osv.Wolfi, osv.Chainguard, osv.NPM, osv.PyPI, osv.Go, osv.Maven,
		osv.CratesIO, osv.RubyGems, osv.Packagist, osv.NuGet,
	}
}

// Path returns where the DB of cacheDir lives.
func Path(cacheDir string) string {
	return filepath.Join(cacheDir, "db", "vuln.db")
}

// DB is an open, read-only vulnerability database. It is safe for
// concurrent use.
type DB struct {
	path    string
	sql     *sql.DB
	lookup  *sql.Stmt
	get     *sql.Stmt
	raw     *sql.Stmt
	codec   *codec
	builtAt time.Time

	mu   sync.Mutex
	pkgs map[pkgKey][]*osv.Vulnerability // memo of Lookup
	recs map[string]*osv.Vulnerability   // decoded records by id
}

// maxMemoRecords bounds the decoded records a DB keeps in memory; past it
// the memo starts over.
const maxMemoRecords = 50_000

// Open opens the DB of cacheDir for reading. It fails with ErrNoDB when
// there is none, and with ErrSchema when it was written by an incompatible
// bulkhead.
func Open(cacheDir string) (*DB, error) {
	path := Path(cacheDir)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: run `bulkhead db update` to download one, "+
				"or `bulkhead db import PATH` to load OSV exports copied from elsewhere", ErrNoDB, path)
		}
		return nil, fmt.Errorf("opening vulnerability database: %w", err)
	}
	c, err := getCodec()
	if err != nil {
		return nil, err
	}
	sdb, err := sql.Open("sqlite", readDSN(path))
	if err != nil {
		return nil, fmt.Errorf("opening vulnerability database %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	sdb.SetMaxIdleConns(max(2, runtime.GOMAXPROCS(0)))
	db := &DB{path: path, sql: sdb, codec: c}
	if err := db.init(); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) init() error {
	ctx := context.Background()
	v, err := readSchemaVersion(ctx, db.sql)
	if err != nil {
		return fmt.Errorf("reading vulnerability database %s: %w: run `bulkhead db update` "+
			"(or `bulkhead db import PATH`) to rebuild it", db.path, err)
	}
	if v != SchemaVersion {
		return fmt.Errorf("%w: %s has schema v%d, this bulkhead reads v%d: run `bulkhead db update` "+
			"(or `bulkhead db import PATH`) to rebuild it", ErrSchema, db.path, v, SchemaVersion)
	}
	var built string
	if err := db.sql.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaBuiltAt).Scan(&built); err != nil {
		return fmt.Errorf("reading vulnerability database %s: %w", db.path, err)
	}
	us, err := strconv.ParseInt(built, 10, 64)
	if err != nil {
		return fmt.Errorf("reading vulnerability database %s: build time %q: %w", db.path, built, err)
	}
	db.builtAt = time.UnixMicro(us).UTC()
	if db.lookup, err = db.sql.PrepareContext(ctx, `
		SELECT a.id, a.rec FROM affected f JOIN advisories a ON a.id = f.advisory_id
		WHERE f.ecosystem = ? AND f.name_norm = ?
		ORDER BY f.advisory_id`); err != nil {
		return fmt.Errorf("preparing lookup: %w", err)
	}
	if db.get, err = db.sql.PrepareContext(ctx, `SELECT rec FROM advisories WHERE id = ?`); err != nil {
		return fmt.Errorf("preparing lookup: %w", err)
	}
	if db.raw, err = db.sql.PrepareContext(ctx, `SELECT raw FROM advisories WHERE id = ?`); err != nil {
		return fmt.Errorf("preparing lookup: %w", err)
	}
	db.pkgs = make(map[pkgKey][]*osv.Vulnerability)
	db.recs = make(map[string]*osv.Vulnerability)
	return nil
}

// Close releases the DB.
func (db *DB) Close() error {
	return db.sql.Close()
}

// Lookup returns the advisories that name package name in ecosystem, the
// full OSV ecosystem with its release ("Debian:12", "Alpine:v3.20",
// "npm"). The name is normalised with osv.NormalizeName. Withdrawn
// advisories are left out; each advisory appears once, ordered by id.
//
// The records (and the slice) are shared with other callers and later
// calls: do not modify them.
func (db *DB) Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error) {
	key := pkgKey{eco: ecosystem, name: osv.NormalizeName(ecosystem, name)}
	db.mu.Lock()
	vs, ok := db.pkgs[key]
	db.mu.Unlock()
	if ok {
		return vs, nil
	}
	rows, err := db.lookup.QueryContext(ctx, key.eco, key.name)
	if err != nil {
		return nil, fmt.Errorf("looking up %s/%s: %w", ecosystem, name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var rec sql.RawBytes
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, fmt.Errorf("looking up %s/%s: %w", ecosystem, name, err)
		}
		db.mu.Lock()
		v := db.recs[id]
		db.mu.Unlock()
		if v == nil {
			if v, err = db.decode(id, rec); err != nil {
				return nil, fmt.Errorf("looking up %s/%s: %w", ecosystem, name, err)
			}
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up %s/%s: %w", ecosystem, name, err)
	}
	db.mu.Lock()
	if len(db.recs)+len(vs) > maxMemoRecords {
		clear(db.recs)
		clear(db.pkgs)
	}
	for _, v := range vs {
		db.recs[v.ID] = v
	}
	vs = slices.Clip(vs) // a caller's append must not write into the memo
	db.pkgs[key] = vs
	db.mu.Unlock()
	return vs, nil
}

// Get returns the advisory with the given id, withdrawn or not, or nil when
// the DB has none. The record is shared: do not modify it.
func (db *DB) Get(ctx context.Context, id string) (*osv.Vulnerability, error) {
	db.mu.Lock()
	v := db.recs[id]
	db.mu.Unlock()
	if v != nil {
		return v, nil
	}
	var rec []byte
	err := db.get.QueryRowContext(ctx, id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading advisory %s: %w", id, err)
	}
	return db.decode(id, rec)
}

// Raw returns the OSV JSON of the advisory with the given id as it was
// imported, or nil when the DB has none.
func (db *DB) Raw(ctx context.Context, id string) (json.RawMessage, error) {
	var raw []byte
	err := db.raw.QueryRowContext(ctx, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading advisory %s: %w", id, err)
	}
	data, err := db.codec.decompress(raw)
	if err != nil {
		return nil, fmt.Errorf("advisory %s is damaged (%v): run `bulkhead db update` to rebuild the DB", id, err)
	}
	return data, nil
}

func (db *DB) decode(id string, rec []byte) (*osv.Vulnerability, error) {
	data, err := unpackRec(rec)
	if err == nil {
		var v *osv.Vulnerability
		if v, err = decodeBin(data); err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("advisory %s is damaged (%v): run `bulkhead db update` to rebuild the DB", id, err)
}

// Age returns the time since the DB was last updated or imported into.
func (db *DB) Age() time.Duration {
	return time.Since(db.builtAt)
}

// CheckAge returns an error wrapping ErrStale when the DB is older than
// maxAge (no check when maxAge <= 0). Scans report it as a warning.
func (db *DB) CheckAge(maxAge time.Duration) error {
	if maxAge <= 0 || db.Age() <= maxAge {
		return nil
	}
	return fmt.Errorf("%w: last updated %s ago (%s), more than --db-max-age %s: "+
		"run `bulkhead db update` (or `bulkhead db import PATH` with fresh exports)",
		ErrStale, roundAge(db.Age()), db.builtAt.Format(time.RFC3339), roundAge(maxAge))
}

// roundAge prints a duration the way people say it: "9d4h", "3h12m", "40s".
func roundAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Second).String()
	}
}

// Status describes a DB.
type Status struct {
	Path          string            `json:"path"`
	SizeBytes     int64             `json:"size_bytes"`
	SchemaVersion int               `json:"schema_version"`
	BuiltAt       time.Time         `json:"built_at"` // last update or import
	Advisories    int               `json:"advisories"`
	Withdrawn     int               `json:"withdrawn"`
	Ecosystems    []EcosystemStatus `json:"ecosystems"`
}

// EcosystemStatus describes one base ecosystem ("Debian") of a DB.
type EcosystemStatus struct {
	Name string `json:"name"`
	// Advisories counts the advisories (withdrawn ones excluded) naming a
	// package of this ecosystem.
	Advisories int `json:"advisories"`
	// NewestModified is the newest "modified" among them; zero when the
	// source leaves it out (the Go database does).
	NewestModified time.Time `json:"newest_modified,omitzero"`
	// FetchedAt and Source say when and from where the ecosystem's data
	// was last updated or imported; zero and empty for an ecosystem that
	// only appears inside another one's advisories.
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	Source    string    `json:"source,omitempty"`
	// Releases counts advisories per ecosystem with release ("Debian:12"),
	// for ecosystems that have releases.
	Releases map[string]int `json:"releases,omitempty"`
}

// Status reports what the DB holds.
func (db *DB) Status(ctx context.Context) (*Status, error) {
	st := &Status{Path: db.path, SchemaVersion: SchemaVersion, BuiltAt: db.builtAt}
	if fi, err := os.Stat(db.path); err == nil {
		st.SizeBytes = fi.Size()
	}
	meta := map[string]*int{"advisories": &st.Advisories, "withdrawn": &st.Withdrawn}
	for k, p := range meta {
		var s string
		if err := db.sql.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, k).Scan(&s); err != nil {
			return nil, fmt.Errorf("reading DB status: %w", err)
		}
		*p, _ = strconv.Atoi(s)
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT name, advisories, newest_modified, fetched_at, source FROM ecosystems ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("reading DB status: %w", err)
	}
	defer rows.Close()
	idx := map[string]int{}
	for rows.Next() {
		var e EcosystemStatus
		var newest, fetched sql.NullInt64
		if err := rows.Scan(&e.Name, &e.Advisories, &newest, &fetched, &e.Source); err != nil {
			return nil, fmt.Errorf("reading DB status: %w", err)
		}
		e.NewestModified = microTime(newest)
		e.FetchedAt = microTime(fetched)
		idx[e.Name] = len(st.Ecosystems)
		st.Ecosystems = append(st.Ecosystems, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading DB status: %w", err)
	}
	rows.Close()
	rel, err := db.sql.QueryContext(ctx, `SELECT ecosystem, base, advisories FROM releases WHERE ecosystem <> base`)
	if err != nil {
		return nil, fmt.Errorf("reading DB status: %w", err)
	}
	defer rel.Close()
	for rel.Next() {
		var eco, base string
		var n int
		if err := rel.Scan(&eco, &base, &n); err != nil {
			return nil, fmt.Errorf("reading DB status: %w", err)
		}
		i, ok := idx[base]
		if !ok {
			continue
		}
		e := &st.Ecosystems[i]
		if e.Releases == nil {
			e.Releases = map[string]int{}
		}
		e.Releases[eco] = n
	}
	if err := rel.Err(); err != nil {
		return nil, fmt.Errorf("reading DB status: %w", err)
	}
	sort.SliceStable(st.Ecosystems, func(i, j int) bool { return st.Ecosystems[i].Name < st.Ecosystems[j].Name })
	return st, nil
}

// microTime turns stored unix microseconds into a time; NULL and OSV's zero
// date become the zero time.
func microTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	t := time.UnixMicro(v.Int64).UTC()
	if t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// Releases lists the ecosystems with a release suffix that start with
// prefix ("Red Hat:enterprise_linux:9::" → the baseos, appstream, ...
// streams), for distros whose advisories are split by repository.
func (db *DB) Releases(ctx context.Context, prefix string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT ecosystem FROM releases WHERE ecosystem >= ? AND ecosystem < ? ORDER BY ecosystem`,
		prefix, prefix+"\U0010FFFF")
	if err != nil {
		return nil, fmt.Errorf("listing releases %q: %w", prefix, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
