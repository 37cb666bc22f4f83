package rpm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file walks an rpm database the way go-rpmdb v0.1.1 will, before it
// does, and rejects what go-rpmdb cannot survive. go-rpmdb reads Berkeley DB
// and NDB files in a goroutine of its own, so a panic there is out of reach of
// analyzer.Run's recover and takes the whole process down; and it has no
// bounds on loops or allocations. On crafted input it:
//
//   - Berkeley DB: indexes the page with unchecked offsets (panic in its
//     goroutine), loops forever on an overflow chain that reaches a page that
//     is not an overflow page, and follows cyclic chains while appending to
//     the value (unbounded memory);
//   - NDB: allocates each blob's declared length, up to 4 GiB, and prints
//     "bad slot magic" to stdout;
//   - SQLite: runs "SELECT blob FROM Packages", which a view can make
//     endless, a generated column gigabytes long, and a column default
//     repeat one header (stored once, in the schema) for every row;
//   - Berkeley DB and NDB: lets any number of entries point at the same
//     stored header, so a small file lists millions of packages;
//   - any format: see header.go.
//
// checkDB checks every structure go-rpmdb will touch, with go-rpmdb's
// arithmetic, and every header blob with checkHeader. It also caps what the
// whole database may cost: each byte of the file feeds at most one header,
// and the number of packages and of split strings is bounded.

const (
	// maxDBSize caps the database file. The largest real databases (a
	// full RHEL or Fedora workstation) are a few hundred MiB.
	maxDBSize = 512 << 20
	// maxPackages caps headers per database; real systems have a few
	// thousand.
	maxPackages = 100_000
	// maxElements caps the strings go-rpmdb splits out of file lists,
	// provides and requires for a whole database: each costs a 16-byte
	// string header however short it is. Real databases have 600 to 1,000
	// per package (CentOS 7 with 396 packages: 263,045), so a 5,000-package
	// workstation stays well below the cap.
	maxElements = 16 << 20
)

// Formats go-rpmdb recognises, in the order rpmdb.Open tries them.
type format int

const (
	formatSQLite format = iota + 1
	formatNDB
	formatBDB
)

func (f format) String() string {
	switch f {
	case formatSQLite:
		return "sqlite"
	case formatNDB:
		return "ndb"
	case formatBDB:
		return "bdb"
	}
	return "unknown"
}

var sqliteMagic = []byte("SQLite format 3\x00")

const (
	ndbHeaderMagic = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbMaxSlotPage = 2048 // go-rpmdb's own limit
	ndbSlotsPage   = 4096 / 16

	bdbHashMagic      = 0x00061561
	bdbHashMagicSwap  = 0x61150600
	bdbPageHeaderSize = 26
	bdbHashMetaPage   = 8
	bdbHashUnsorted   = 2
	bdbHashPage       = 13
	bdbOverflowPage   = 7
	bdbOffPageEntry   = 3 // HOFFPAGE
	bdbOffPageSize    = 12
)

// sniff decides the format from the first 32 bytes the way rpmdb.Open does:
// SQLite magic, else a valid NDB header, else Berkeley DB.
func sniff(head []byte) (format, error) {
	if len(head) < 32 {
		return 0, fmt.Errorf("%d bytes, too short for an rpm database", len(head))
	}
	if bytes.HasPrefix(head, sqliteMagic) {
		return formatSQLite, nil
	}
	magic := binary.LittleEndian.Uint32(head[0:])
	version := binary.LittleEndian.Uint32(head[4:])
	pages := binary.LittleEndian.Uint32(head[12:])
	if magic == ndbHeaderMagic && version == 0 && pages != 0 {
		return formatNDB, nil
	}
	return formatBDB, nil
}

// budget accumulates the cost of a whole database.
type budget struct {
	size      int64
	packages  int
	elements  int
	blobBytes int64
}

func (b *budget) addHeader(blob []byte) error {
	st, err := checkHeader(blob)
	if err != nil {
		return fmt.Errorf("header %d: %w", b.packages+1, err)
	}
	b.packages++
	b.elements += st.elements
	b.blobBytes += int64(len(blob))
	switch {
	case b.packages > maxPackages:
		return fmt.Errorf("more than %d packages", maxPackages)
	case b.elements > maxElements:
		return fmt.Errorf("more than %d file, provide and require entries", maxElements)
	case b.blobBytes > b.size:
		// Headers are stored once each; more header bytes than file
		// bytes means records share storage.
		return fmt.Errorf("headers total %d bytes in a %d-byte file: records overlap", b.blobBytes, b.size)
	}
	return nil
}

// checkDB checks the database at path (whose bytes r also reads) for
// everything go-rpmdb will do with it.
func checkDB(ctx context.Context, f format, r io.ReaderAt, size int64, path string) (*budget, error) {
	b := &budget{size: size}
	var err error
	switch f {
	case formatSQLite:
		err = checkSQLite(ctx, path, b)
	case formatNDB:
		err = checkNDB(ctx, r, size, b)
	case formatBDB:
		err = checkBDB(ctx, r, size, b)
	default:
		err = fmt.Errorf("unknown format %d", f)
	}
	return b, err
}

func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %d bytes at %d: %w", len(p), off, err)
}

// checkNDB follows go-rpmdb's ndb.Open and RpmNDB.Read.
func checkNDB(ctx context.Context, r io.ReaderAt, size int64, b *budget) error {
	var hdr [32]byte
	if err := readFull(r, hdr[:], 0); err != nil {
		return err
	}
	pages := binary.LittleEndian.Uint32(hdr[12:])
	if pages > ndbMaxSlotPage {
		return fmt.Errorf("ndb: %d slot pages, limit %d", pages, ndbMaxSlotPage)
	}
	// The slot pages follow the header; the header takes the first two
	// slots of the first page.
	slots := make([]byte, int64(pages)*4096-32)
	if err := readFull(r, slots, 32); err != nil {
		return fmt.Errorf("ndb: slot pages: %w", err)
	}
	var (
		blobHdr [16]byte
		blob    []byte // reused: checkHeader keeps nothing
	)
	for i := 0; i < len(slots); i += 16 {
		if i%(1<<12) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := slots[i:]
		if binary.LittleEndian.Uint32(s[0:]) != ndbSlotMagic {
			return fmt.Errorf("ndb: slot %d: bad magic", i/16)
		}
		pkgIndex := binary.LittleEndian.Uint32(s[4:])
		if pkgIndex == 0 {
			continue
		}
		off := int64(binary.LittleEndian.Uint32(s[8:])) * 16
		if err := readFull(r, blobHdr[:], off); err != nil {
			return fmt.Errorf("ndb: package %d: blob header: %w", pkgIndex, err)
		}
		if binary.LittleEndian.Uint32(blobHdr[0:]) != ndbBlobMagic {
			return fmt.Errorf("ndb: package %d: bad blob magic", pkgIndex)
		}
		if binary.LittleEndian.Uint32(blobHdr[4:]) != pkgIndex {
			return fmt.Errorf("ndb: package %d: blob belongs to package %d", pkgIndex, binary.LittleEndian.Uint32(blobHdr[4:]))
		}
		n := int64(binary.LittleEndian.Uint32(blobHdr[12:]))
		if n > maxHeaderBlob || off+16+n > size {
			return fmt.Errorf("ndb: package %d: blob of %d bytes at %d does not fit", pkgIndex, n, off)
		}
		blob = slices.Grow(blob[:0], int(n))[:n]
		if err := readFull(r, blob, off+16); err != nil {
			return fmt.Errorf("ndb: package %d: %w", pkgIndex, err)
		}
		if err := b.addHeader(blob); err != nil {
			return fmt.Errorf("ndb: package %d: %w", pkgIndex, err)
		}
	}
	return nil
}

// checkBDB follows go-rpmdb's bdb.Open and BerkeleyDB.Read.
func checkBDB(ctx context.Context, r io.ReaderAt, size int64, b *budget) error {
	// go-rpmdb reads up to 512 bytes and parses them zero-padded.
	meta := make([]byte, 512)
	if n, err := r.ReadAt(meta, 0); n == 0 {
		return fmt.Errorf("bdb: metadata: %w", err)
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if binary.LittleEndian.Uint32(meta[12:]) == bdbHashMagicSwap {
		order = binary.BigEndian
	}
	switch {
	case order.Uint32(meta[12:]) != bdbHashMagic:
		return fmt.Errorf("bdb: bad magic %#x: not an rpm database", order.Uint32(meta[12:]))
	case meta[24] != 0:
		return fmt.Errorf("bdb: encrypted (algorithm %d)", meta[24])
	case meta[25] != bdbHashMetaPage:
		return fmt.Errorf("bdb: unexpected metadata page type %d", meta[25])
	}
	pageSize := int64(order.Uint32(meta[20:]))
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("bdb: unexpected page size %d", pageSize)
	}
	// go-rpmdb reads pages 0..LastPageNo in sequence and fails on a short
	// read; we insist they are all there.
	lastPage := int64(order.Uint32(meta[32:]))
	if (lastPage+1)*pageSize > size {
		return fmt.Errorf("bdb: truncated: %d pages of %d bytes in a %d-byte file", lastPage+1, pageSize, size)
	}
	// Offsets within a page are uint16 in go-rpmdb, and it adds to them
	// without widening; keep every sum below 1<<16.
	limit := min(pageSize, 0xffff)
	used := make([]bool, size/pageSize)
	page := make([]byte, pageSize)
	ov := make([]byte, pageSize)
	var value []byte // reused: checkHeader keeps nothing

	for pn := int64(0); pn <= lastPage; pn++ {
		if pn%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := readFull(r, page, pn*pageSize); err != nil {
			return fmt.Errorf("bdb: page %d: %w", pn, err)
		}
		if t := page[25]; t != bdbHashUnsorted && t != bdbHashPage {
			continue
		}
		entries := int64(order.Uint16(page[20:]))
		if entries%2 != 0 {
			return fmt.Errorf("bdb: page %d: odd number of hash entries %d", pn, entries)
		}
		if bdbPageHeaderSize+2*entries > limit {
			return fmt.Errorf("bdb: page %d: %d hash entries overflow the page", pn, entries)
		}
		// Entries are key/value pairs of in-page offsets; go-rpmdb reads
		// the values.
		for i := int64(1); i < entries; i += 2 {
			v := int64(order.Uint16(page[bdbPageHeaderSize+2*i:]))
			if v >= pageSize {
				return fmt.Errorf("bdb: page %d: entry %d offset %d outside the page", pn, i, v)
			}
			if page[v] != bdbOffPageEntry {
				continue
			}
			if v+bdbOffPageSize > limit {
				return fmt.Errorf("bdb: page %d: entry %d offset %d outside the page", pn, i, v)
			}
			first := int64(order.Uint32(page[v+4:]))
			// The entry's total length presizes the buffer (never beyond
			// what a header may take; the chain decides what is read).
			total := min(int(order.Uint32(page[v+8:])), maxHeaderBlob)
			var err error
			value, err = overflowValue(slices.Grow(value[:0], total), r, order, first, pageSize, size, used, ov)
			if err != nil {
				return fmt.Errorf("bdb: page %d entry %d: %w", pn, i, err)
			}
			if err := b.addHeader(value); err != nil {
				return fmt.Errorf("bdb: page %d entry %d: %w", pn, i, err)
			}
		}
	}
	return nil
}

// overflowValue appends to value the chain of overflow pages starting at pn,
// as go-rpmdb's HashPageValueContent concatenates it, refusing what it would
// choke on. used marks pages already read: a page belongs to at most one
// value, which rules out cycles and shared chains. buf is a page buffer.
func overflowValue(value []byte, r io.ReaderAt, order binary.ByteOrder, pn, pageSize, size int64, used []bool, buf []byte) ([]byte, error) {
	limit := min(pageSize, 0xffff)
	for pn != 0 {
		off := pn * pageSize
		// go-rpmdb computes the offset in uint32.
		if off >= 1<<32 || off+pageSize > size {
			return nil, fmt.Errorf("overflow page %d outside the file", pn)
		}
		if used[pn] {
			return nil, fmt.Errorf("overflow page %d used twice", pn)
		}
		used[pn] = true
		if err := readFull(r, buf, off); err != nil {
			return nil, fmt.Errorf("overflow page %d: %w", pn, err)
		}
		// go-rpmdb retries such a page forever.
		if buf[25] != bdbOverflowPage {
			return nil, fmt.Errorf("page %d in an overflow chain has type %d", pn, buf[25])
		}
		next := int64(order.Uint32(buf[16:]))
		if next == 0 {
			free := int64(order.Uint16(buf[22:]))
			if bdbPageHeaderSize+free > limit {
				return nil, fmt.Errorf("overflow page %d: length %d exceeds the page", pn, free)
			}
			value = append(value, buf[bdbPageHeaderSize:bdbPageHeaderSize+free]...)
		} else {
			value = append(value, buf[bdbPageHeaderSize:]...)
		}
		if len(value) > maxHeaderBlob {
			return nil, fmt.Errorf("value exceeds %d bytes", maxHeaderBlob)
		}
		pn = next
	}
	return value, nil
}

// checkSQLite follows go-rpmdb's "SELECT blob FROM Packages" on a read-only
// connection of our own. It insists Packages is an ordinary table whose blob
// column is stored as written (not generated, no default), so the query can
// only return bytes that are in the file, and caps any value SQLite builds at
// maxHeaderBlob.
func checkSQLite(ctx context.Context, path string, b *budget) (err error) {
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&immutable=1"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	defer conn.Close()
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, maxHeaderBlob); err != nil {
		return fmt.Errorf("sqlite: set limit: %w", err)
	}
	if err := checkPackagesTable(ctx, conn); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT blob FROM Packages")
	if err != nil {
		return fmt.Errorf("sqlite: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("sqlite: row %d: %w", b.packages+1, err)
		}
		if err := b.addHeader(blob); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read: %w", err)
	}
	return nil
}

// checkPackagesTable looks at the schema SQLite actually loaded (not at the
// text of sqlite_master, which it re-parses).
func checkPackagesTable(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, "SELECT schema, type FROM pragma_table_list WHERE name = 'Packages' COLLATE NOCASE")
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	var kinds []string
	for rows.Next() {
		var schema, kind string
		if err := rows.Scan(&schema, &kind); err != nil {
			rows.Close()
			return fmt.Errorf("list tables: %w", err)
		}
		kinds = append(kinds, schema+"."+kind)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(kinds) != 1 || kinds[0] != "main.table" {
		return fmt.Errorf("table Packages is %v, want one ordinary table", kinds)
	}

	rows, err = conn.QueryContext(ctx, "SELECT name, dflt_value IS NOT NULL, hidden FROM pragma_table_xinfo('Packages')")
	if err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var (
			name       string
			hasDefault bool
			hidden     int
		)
		if err := rows.Scan(&name, &hasDefault, &hidden); err != nil {
			return fmt.Errorf("list columns: %w", err)
		}
		if !strings.EqualFold(name, "blob") {
			continue
		}
		if hidden != 0 || hasDefault {
			return errors.New("column Packages.blob is computed (generated or defaulted), not stored")
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	if !found {
		return errors.New("table Packages has no blob column")
	}
	return nil
}
