package vulndb

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// Limits bound what one import may cost. Zero fields take the defaults of
// DefaultLimits. They exist for hostile input (zip bombs, giant records);
// real osv.dev data stays far below them.
type Limits struct {
	// MaxRecordBytes caps one OSV JSON record. A larger one is skipped
	// with a warning. The largest osv.dev records are a few hundred KiB.
	MaxRecordBytes int64
	// MaxRecordValues caps the JSON values (strings, objects, arrays,
	// list elements) of one record, which bounds the memory decoding it
	// takes: an advisory listing 100,000 versions has about 100,000. A
	// record over the cap is skipped with a warning.
	MaxRecordValues int
	// MaxPackages caps the distinct (ecosystem, package) pairs one record
	// may add to the index. A record over the cap is skipped.
	MaxPackages int
	// MaxArchiveBytes caps the uncompressed bytes read from one zip. An
	// archive over the cap fails the import.
	MaxArchiveBytes int64
	// MaxRatio caps the uncompressed bytes of a zip at MaxRatio times its
	// file size (plus MaxRecordBytes): real OSV exports inflate about
	// 6-fold, zip bombs a thousand-fold. An archive over the cap fails
	// the import.
	MaxRatio int64
	// MaxRecords caps the records of one archive or directory.
	MaxRecords int
}

// DefaultLimits are the limits used where a Limits field is zero.
var DefaultLimits = Limits{
	MaxRecordBytes:  16 << 20,
	MaxRecordValues: 1_000_000,
	MaxPackages:     20_000,
	MaxArchiveBytes: 64 << 30,
	MaxRatio:        100,
	MaxRecords:      10_000_000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxRecordBytes > 0 {
		d.MaxRecordBytes = l.MaxRecordBytes
	}
	if l.MaxRecordValues > 0 {
		d.MaxRecordValues = l.MaxRecordValues
	}
	if l.MaxPackages > 0 {
		d.MaxPackages = l.MaxPackages
	}
	if l.MaxArchiveBytes > 0 {
		d.MaxArchiveBytes = l.MaxArchiveBytes
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxRecords > 0 {
		d.MaxRecords = l.MaxRecords
	}
	return d
}

// errMalformed marks a record that is skipped; the import goes on.
var errMalformed = errors.New("malformed OSV record")

// pkgKey is one (ecosystem, normalised name) the record is indexed under.
type pkgKey struct {
	eco  string // full OSV ecosystem, with release: "Debian:12"
	name string // osv.NormalizeName
}

// record is an OSV advisory ready to be stored.
type record struct {
	id        string
	modified  int64 // unix microseconds, UTC
	published *int64
	withdrawn *int64
	summary   string
	severity  []byte // JSON or nil
	aliases   []byte // JSON or nil
	pkgs      []pkgKey
	bases     []string // base ecosystems of pkgs, sorted, distinct
	digest    []byte   // SHA-256/128 of the JSON
	rec       []byte   // encodeBin, S2-compressed
	raw       []byte   // the JSON as read, zstd-compressed
}

// maxFieldLen bounds ids, ecosystems and package names.
const maxFieldLen = 1024

// decodeRecord validates one OSV JSON document and turns it into a record.
// Every error wraps errMalformed or errTooLarge: the record is skipped.
func decodeRecord(data []byte, lim Limits, c *codec) (*record, error) {
	if int64(len(data)) > lim.MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", errTooLarge, len(data), lim.MaxRecordBytes)
	}
	if n := countValues(data); n > lim.MaxRecordValues {
		return nil, fmt.Errorf("%w: %d JSON values (limit %d)", errTooLarge, n, lim.MaxRecordValues)
	}
	var v osv.Vulnerability
	if err := unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if err := checkField("id", v.ID); err != nil {
		return nil, err
	}
	r := &record{
		id:       v.ID,
		modified: v.Modified.UTC().UnixMicro(),
		summary:  v.Summary,
	}
	if v.Published != nil {
		p := v.Published.UTC().UnixMicro()
		r.published = &p
	}
	if v.Withdrawn != nil {
		w := v.Withdrawn.UTC().UnixMicro()
		r.withdrawn = &w
	}
	var err error
	if len(v.Severity) > 0 {
		if r.severity, err = json.Marshal(v.Severity); err != nil {
			return nil, fmt.Errorf("%w: severity: %v", errMalformed, err)
		}
	}
	if len(v.Aliases) > 0 {
		if r.aliases, err = json.Marshal(v.Aliases); err != nil {
			return nil, fmt.Errorf("%w: aliases: %v", errMalformed, err)
		}
	}
	for i := range v.Affected {
		p := &v.Affected[i].Package
		if p.Ecosystem == "" || p.Name == "" {
			continue // GIT-only or purl-only: nothing to look up by name
		}
		if err := checkField("ecosystem", p.Ecosystem); err != nil {
			return nil, err
		}
		if err := checkField("package name", p.Name); err != nil {
			return nil, err
		}
		r.pkgs = append(r.pkgs, pkgKey{eco: p.Ecosystem, name: osv.NormalizeName(p.Ecosystem, p.Name)})
	}
	slices.SortFunc(r.pkgs, func(a, b pkgKey) int {
		if c := strings.Compare(a.eco, b.eco); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	r.pkgs = slices.Compact(r.pkgs)
	if len(r.pkgs) > lim.MaxPackages {
		return nil, fmt.Errorf("%w: %d packages (limit %d)", errTooLarge, len(r.pkgs), lim.MaxPackages)
	}
	for _, p := range r.pkgs {
		r.bases = append(r.bases, osv.BaseEcosystem(p.eco))
	}
	slices.Sort(r.bases)
	r.bases = slices.Compact(r.bases)

	sum := sha256.Sum256(data)
	r.digest = sum[:16]
	r.raw = c.enc.EncodeAll(data, make([]byte, 0, len(data)/4+64))
	bin := c.buffer()
	defer c.release(bin)
	bin.Write(encodeBin(bin.AvailableBuffer(), &v))
	r.rec = packRec(bin.Bytes())
	return r, nil
}

// unmarshal decodes an OSV record. osv.Vulnerability has its own
// UnmarshalJSON, which validates the whole document; calling it directly
// spares json.Unmarshal's own validation pass over it.
func unmarshal(data []byte, v *osv.Vulnerability) error {
	if u, ok := any(v).(json.Unmarshaler); ok {
		return u.UnmarshalJSON(data)
	}
	return json.Unmarshal(data, v)
}

// checkField rejects empty, huge, non-UTF-8 or control-character values:
// they are keys in the index and appear in terminal output.
func checkField(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: no %s", errMalformed, what)
	case len(s) > maxFieldLen:
		return fmt.Errorf("%w: %s is %d bytes long", errMalformed, what, len(s))
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", errMalformed, what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: %s %q has control characters", errMalformed, what, s)
	}
	return nil
}

// countValues counts the commas, strings, objects and arrays of a JSON
// document outside strings: an upper bound of the values the decoder
// allocates, computed in one pass without allocating.
func countValues(data []byte) int {
	n := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case ',', '{', '[':
			n++
		case '"':
			n++
			// Skip the string, honouring backslash escapes.
			for i++; i < len(data); i++ {
				if data[i] == '\\' {
					i++
				} else if data[i] == '"' {
					break
				}
			}
		}
	}
	return n
}

// isJSONName reports whether a file or member name is an OSV JSON record.
func isJSONName(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".json")
}
