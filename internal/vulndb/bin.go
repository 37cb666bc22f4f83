package vulndb

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// Lookups return decoded records, and decoding OSV JSON costs about 45 µs
// a record with encoding/json: a large image matching 5,000 advisories
// would spend a quarter of a second there. So each advisory is also stored
// as a compact binary encoding of osv.Vulnerability that decodes an order
// of magnitude faster: one copy of the buffer into a string that every
// string field then slices, no parsing. The raw JSON stays next to it, for
// fidelity (fields osv.Vulnerability does not model) and so a future
// format can be rebuilt from it without a download.
//
// Layout: a version byte, then the fields in declaration order. Strings and
// byte slices are a uvarint length and the bytes; slices and pointers
// (which must come back nil or empty exactly as encoding/json made them) a
// uvarint of length+1, 0 meaning nil; times a flag (0 zero, 1 set) then
// unix seconds (varint) and nanoseconds (uvarint).
//
// TestBinCoversVulnerability fails when osv.Vulnerability gains a field
// this file does not store: add it here and bump binVersion and
// SchemaVersion.
const binVersion = 1

var errBinCorrupt = errors.New("corrupt binary advisory")

type binWriter struct{ b []byte }

func (w *binWriter) uvarint(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *binWriter) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }

// n writes the length of a slice that may be nil.
func (w *binWriter) n(length int, isNil bool) {
	if isNil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(length) + 1)
}

func (w *binWriter) strs(ss []string) {
	w.n(len(ss), ss == nil)
	for _, s := range ss {
		w.str(s)
	}
}

func (w *binWriter) raw(r json.RawMessage) {
	w.n(len(r), r == nil)
	w.b = append(w.b, r...)
}

func (w *binWriter) time(t time.Time) {
	if t.IsZero() {
		w.uvarint(0)
		return
	}
	w.uvarint(1)
	w.b = binary.AppendVarint(w.b, t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
}

func (w *binWriter) ptime(t *time.Time) {
	if t == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(1)
	w.time(*t)
}

func (w *binWriter) severities(s []osv.Severity) {
	w.n(len(s), s == nil)
	for _, x := range s {
		w.str(x.Type)
		w.str(x.Score)
	}
}

// encodeBin appends the binary form of v to dst.
func encodeBin(dst []byte, v *osv.Vulnerability) []byte {
	w := binWriter{b: append(dst, binVersion)}
	w.str(v.SchemaVersion)
	w.str(v.ID)
	w.time(v.Modified)
	w.ptime(v.Published)
	w.ptime(v.Withdrawn)
	w.strs(v.Aliases)
	w.strs(v.Upstream)
	w.strs(v.Related)
	w.str(v.Summary)
	w.str(v.Details)
	w.severities(v.Severity)
	w.n(len(v.Affected), v.Affected == nil)
	for i := range v.Affected {
		a := &v.Affected[i]
		w.str(a.Package.Ecosystem)
		w.str(a.Package.Name)
		w.str(a.Package.PURL)
		w.severities(a.Severity)
		w.n(len(a.Ranges), a.Ranges == nil)
		for _, r := range a.Ranges {
			w.str(r.Type)
			w.str(r.Repo)
			w.n(len(r.Events), r.Events == nil)
			for _, e := range r.Events {
				w.str(e.Introduced)
				w.str(e.Fixed)
				w.str(e.LastAffected)
				w.str(e.Limit)
			}
			w.raw(r.DatabaseSpecific)
		}
		w.strs(a.Versions)
		w.raw(a.EcosystemSpecific)
		w.raw(a.DatabaseSpecific)
	}
	w.n(len(v.References), v.References == nil)
	for _, r := range v.References {
		w.str(r.Type)
		w.str(r.URL)
	}
	w.raw(v.DatabaseSpecific)
	return w.b
}

// binReader decodes what binWriter wrote. Strings slice s, one copy of
// the whole buffer; raw JSON slices b. The first error sticks.
type binReader struct {
	b   []byte
	s   string
	off int
	err error
}

func (r *binReader) fail() {
	if r.err == nil {
		r.err = errBinCorrupt
	}
	r.off = len(r.b)
}

func (r *binReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return x
}

func (r *binReader) varint() int64 {
	x, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return x
}

// span returns the offsets of the next n bytes.
func (r *binReader) span(n uint64) (int, int) {
	if n > uint64(len(r.b)-r.off) {
		r.fail()
		return r.off, r.off
	}
	start := r.off
	r.off += int(n)
	return start, r.off
}

func (r *binReader) str() string {
	i, j := r.span(r.uvarint())
	return r.s[i:j]
}

// count reads a slice length: -1 for nil. Every element takes at least
// one byte, which bounds what a damaged count can make us allocate.
func (r *binReader) count() int {
	n := r.uvarint()
	if n == 0 {
		return -1
	}
	if n-1 > uint64(len(r.b)-r.off) {
		r.fail()
		return -1
	}
	return int(n - 1)
}

func (r *binReader) strs() []string {
	n := r.count()
	if n < 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *binReader) raw() json.RawMessage {
	n := r.count()
	if n < 0 {
		return nil
	}
	i, j := r.span(uint64(n))
	return json.RawMessage(r.b[i:j:j])
}

func (r *binReader) time() time.Time {
	if r.uvarint() == 0 {
		return time.Time{}
	}
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= 1e9 || sec < math.MinInt64/2 {
		r.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *binReader) ptime() *time.Time {
	if r.uvarint() == 0 {
		return nil
	}
	t := r.time()
	return &t
}

func (r *binReader) severities() []osv.Severity {
	n := r.count()
	if n < 0 {
		return nil
	}
	s := make([]osv.Severity, n)
	for i := range s {
		s[i] = osv.Severity{Type: r.str(), Score: r.str()}
	}
	return s
}

// decodeBin decodes a record encoded by encodeBin. b must not be modified
// afterwards: the record's RawMessage fields share it.
func decodeBin(b []byte) (*osv.Vulnerability, error) {
	if len(b) == 0 || b[0] != binVersion {
		return nil, errBinCorrupt
	}
	r := &binReader{b: b, s: string(b), off: 1}
	v := &osv.Vulnerability{
		SchemaVersion: r.str(),
		ID:            r.str(),
		Modified:      r.time(),
		Published:     r.ptime(),
		Withdrawn:     r.ptime(),
		Aliases:       r.strs(),
		Upstream:      r.strs(),
		Related:       r.strs(),
		Summary:       r.str(),
		Details:       r.str(),
		Severity:      r.severities(),
	}
	if n := r.count(); n >= 0 {
		v.Affected = make([]osv.Affected, n)
		for i := range v.Affected {
			a := &v.Affected[i]
			a.Package = osv.Package{Ecosystem: r.str(), Name: r.str(), PURL: r.str()}
			a.Severity = r.severities()
			if n := r.count(); n >= 0 {
				a.Ranges = make([]osv.Range, n)
				for j := range a.Ranges {
					rg := &a.Ranges[j]
					rg.Type, rg.Repo = r.str(), r.str()
					if n := r.count(); n >= 0 {
						rg.Events = make([]osv.Event, n)
						for k := range rg.Events {
							rg.Events[k] = osv.Event{Introduced: r.str(), Fixed: r.str(), LastAffected: r.str(), Limit: r.str()}
						}
					}
					rg.DatabaseSpecific = r.raw()
				}
			}
			a.Versions = r.strs()
			a.EcosystemSpecific = r.raw()
			a.DatabaseSpecific = r.raw()
			if r.err != nil {
				return nil, r.err
			}
		}
	}
	if n := r.count(); n >= 0 {
		v.References = make([]osv.Reference, n)
		for i := range v.References {
			v.References[i] = osv.Reference{Type: r.str(), URL: r.str()}
		}
	}
	v.DatabaseSpecific = r.raw()
	if r.err == nil && r.off != len(r.b) {
		r.err = errBinCorrupt
	}
	if r.err != nil {
		return nil, r.err
	}
	return v, nil
}
