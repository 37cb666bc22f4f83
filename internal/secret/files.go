package secret

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// File rules report a whole file (a keystore, a keytab): their content is
// binary or structured, and its mere presence in an image is the finding.
// The fingerprint is taken over the content's SHA-256, so a rotated store
// gets a new one.

// fileMatch is the Match shown for file findings: there is no string to
// mask.
const fileMatch = "(file)"

type hashSink struct {
	rules []int32
	h     hash.Hash
	head  []byte
}

func (h *hashSink) start(b []byte) {
	h.h = sha256.New()
	h.write(b)
}

func (h *hashSink) write(b []byte) {
	if h.h == nil || len(b) == 0 {
		return
	}
	h.h.Write(b)
	if room := fileRuleMax - len(h.head); room > 0 {
		h.head = append(h.head, b[:min(room, len(b))]...)
	}
}

func (h *hashSink) Write(b []byte) (int, error) { h.write(b); return len(b), nil }

// drain reads the rest of r into the hash.
func (h *hashSink) drain(r io.Reader) error {
	_, err := io.Copy(h, r)
	return err
}

func (f *fileScan) matchFileRules() []int32 {
	var out []int32
	for _, ri := range f.s.fileRules {
		if f.applies(ri) {
			out = append(out, ri)
		}
	}
	return out
}

func (f *fileScan) reportFiles(h *hashSink) {
	sum := "sha256:" + hex.EncodeToString(h.h.Sum(nil))
	for _, ri := range h.rules {
		r := f.s.rules[ri]
		if r.NoReport || (r.Validate != nil && !r.Validate(string(h.head))) {
			continue
		}
		fp := Fingerprint(r.ID, sum)
		if f.allowed(r, nil, fp, sum, sum, 0, 0) || f.seen[r.ID+"\x00"+fp] {
			continue
		}
		f.seen[r.ID+"\x00"+fp] = true
		sev := r.Severity
		if f.s.cfg.LowSeverityPaths != nil && f.s.cfg.LowSeverityPaths.MatchString(f.path) {
			sev = Low
		}
		f.out = append(f.out, inventory.Secret{
			RuleID: r.ID, Category: r.Category, Title: r.Title, Severity: sev,
			Path: f.path, Match: fileMatch, Fingerprint: fp,
		})
	}
}

// jksHasKey reports whether a Java KeyStore (JKS or JCEKS) holds a private
// or secret key entry. Trust stores (cacerts) hold only certificates and are
// not credentials. Content that is not JKS (a PKCS#12 store named .jks) or
// that cannot be parsed to the end is reported, to be safe.
func jksHasKey(b string) bool {
	p := []byte(b)
	if len(p) < 12 {
		return false
	}
	magic := binary.BigEndian.Uint32(p)
	if magic != 0xFEEDFEED && magic != 0xCECECECE {
		return len(p) > 0 && p[0] == 0x30 // PKCS#12 (DER) under a keystore name
	}
	version := binary.BigEndian.Uint32(p[4:])
	count := binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	u32 := func() (uint32, bool) {
		if len(p) < 4 {
			return 0, false
		}
		v := binary.BigEndian.Uint32(p)
		p = p[4:]
		return v, true
	}
	skip := func(n int) bool {
		if n < 0 || len(p) < n {
			return false
		}
		p = p[n:]
		return true
	}
	utf := func() bool {
		if len(p) < 2 {
			return false
		}
		n := int(binary.BigEndian.Uint16(p))
		return skip(2 + n)
	}
	cert := func() bool {
		if version == 2 && !utf() {
			return false
		}
		n, ok := u32()
		return ok && skip(int(n))
	}
	for i := uint32(0); i < count; i++ {
		tag, ok := u32()
		if !ok {
			return true
		}
		switch tag {
		case 1, 3: // private key, secret key
			return true
		case 2:
			if !utf() || !skip(8) || !cert() {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// magicPrefix returns a Validate that checks the first bytes.
func magicPrefix(m string) func(string) bool {
	return func(b string) bool { return len(b) >= len(m) && b[:len(m)] == m }
}

func isDER(b string) bool { return len(b) > 2 && b[0] == 0x30 }
