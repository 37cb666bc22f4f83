package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"strings"
	"time"
)

// Validators: cheap structural checks that turn a regex match into a
// credential with high confidence. None of them talks to a network.

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62Checksum validates the token format GitHub (ghp_, gho_, ghu_, ghs_,
// ghr_) and npm (npm_) use: a 4-character prefix, 30 random base62
// characters, then the CRC-32 (IEEE) of those 30 characters as 6 base62
// digits.
func base62Checksum(tok string) bool {
	if len(tok) != 40 {
		return false
	}
	body, sum := tok[4:34], tok[34:]
	var v uint64
	for i := 0; i < len(sum); i++ {
		d := strings.IndexByte(base62Alphabet, sum[i])
		if d < 0 {
			return false
		}
		v = v*62 + uint64(d)
	}
	return v == uint64(crc32.ChecksumIEEE([]byte(body)))
}

// Base62CRC32 returns the 6-digit checksum suffix for body, for tests and for
// tools that generate tokens of the GitHub/npm shape.
func Base62CRC32(body string) string {
	v := crc32.ChecksumIEEE([]byte(body))
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = base62Alphabet[v%62]
		v /= 62
	}
	return string(b[:])
}

// decodeB64 decodes standard or URL-safe base64, padded or not. It returns
// nil when s is not base64.
func decodeB64(s string) []byte {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

// decodeB64Prefix decodes the first n base64 characters of s (rounded down
// to a multiple of 4), enough to check a header without decoding a whole
// key.
func decodeB64Prefix(s string, n int) []byte {
	if len(s) < n {
		n = len(s)
	}
	n -= n % 4
	return decodeB64(s[:n])
}

// validJWT: a header that is a JSON object naming an algorithm and a payload
// that is a JSON object.
func validJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	var hdr map[string]any
	if err := json.Unmarshal(decodeB64(parts[0]), &hdr); err != nil {
		return false
	}
	if alg, _ := hdr["alg"].(string); alg == "" || strings.EqualFold(alg, "none") {
		return false
	}
	var payload map[string]any
	return json.Unmarshal(decodeB64(parts[1]), &payload) == nil
}

// gradeJWT: a token whose claims are documentation samples (jwt.io's
// John Doe, AWS's EXAMPLE values) is an example; one whose exp is past can
// no longer be used and is low.
func gradeJWT(tok string) (example, low bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false, false
	}
	payload := decodeB64(parts[1])
	lp := strings.ToLower(string(payload))
	example = strings.Contains(lp, "example") || strings.Contains(lp, `"sub":"1234567890"`) || strings.Contains(lp, `"name":"john doe"`)
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) == nil && claims.Exp != "" {
		if exp, err := claims.Exp.Float64(); err == nil && exp > 0 && time.Unix(int64(exp), 0).Before(now()) {
			low = true
		}
	}
	return example, low
}

// now is the clock for expiry checks; tests replace it.
var now = time.Now

// validDER: base64 of an ASN.1 SEQUENCE, as every PKCS#1, SEC 1, DSA and
// PKCS#8 key is.
func validDER(body string) bool {
	b := decodeB64Prefix(body, 64)
	return len(b) >= 4 && b[0] == 0x30 && (b[1] == 0x82 || b[1] == 0x81 || b[1] < 0x80)
}

// opensshCipher returns the cipher named in an openssh-key-v1 blob ("none"
// for an unencrypted key), or "" when body is not one.
func opensshCipher(body string) string {
	b := decodeB64Prefix(body, 64)
	magic := []byte("openssh-key-v1\x00")
	if !bytes.HasPrefix(b, magic) || len(b) < len(magic)+4 {
		return ""
	}
	b = b[len(magic):]
	n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n <= 0 || n > 32 || len(b) < 4+n {
		return ""
	}
	return string(b[4 : 4+n])
}

func opensshPlain(body string) bool     { return opensshCipher(body) == "none" }
func opensshEncrypted(body string) bool { c := opensshCipher(body); return c != "" && c != "none" }

// validPGPSecret: the first OpenPGP packet is a secret-key packet (tag 5),
// in the old or the new packet format.
func validPGPSecret(body string) bool {
	b := decodeB64Prefix(body, 8)
	if len(b) == 0 || b[0]&0x80 == 0 {
		return false
	}
	if b[0]&0x40 != 0 {
		return b[0]&0x3f == 5
	}
	return (b[0]>>2)&0x0f == 5
}

// validBasicAuth: base64 of "user:password" with both parts printable and
// non-empty (Docker config.json "auth", npm _auth).
func validBasicAuth(s string) bool {
	b := decodeB64(s)
	u, p, ok := bytes.Cut(b, []byte(":"))
	if !ok || len(u) == 0 || len(p) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// validPEMPrivateKeyB64: base64 of a PEM block holding a private key
// (kubeconfig client-key-data).
func validPEMPrivateKeyB64(s string) bool {
	b := decodeB64Prefix(s, 80)
	return bytes.HasPrefix(b, []byte("-----BEGIN")) && bytes.Contains(b, []byte("PRIVATE KEY"))
}

// validDiscordToken: the first segment is base64 of a numeric snowflake id.
func validDiscordToken(tok string) bool {
	first, _, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	id := decodeB64(first)
	if len(id) < 17 || len(id) > 20 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validBech32 checks the BIP-173 checksum of an upper- or lower-case bech32
// string (age secret keys).
func validBech32(s string) bool {
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return false
	}
	hrp, data := s[:sep], s[sep+1:]
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	values := make([]byte, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	for i := 0; i < len(data); i++ {
		d := strings.IndexByte(charset, data[i])
		if d < 0 {
			return false
		}
		values = append(values, byte(d))
	}
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1
}

// mixedCase: at least one upper- and one lower-case letter; random tokens
// over [A-Za-z] have both, identifiers in code rarely do for 30+ letters.
func mixedCase(s string) bool {
	var up, low bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			up = true
		case 'a' <= c && c <= 'z':
			low = true
		}
	}
	return up && low
}

// hasDigitAndLetter: random alphanumeric tokens of 20+ characters almost
// always mix digits and letters; words and identifiers often don't.
func hasDigitAndLetter(s string) bool {
	var d, l bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			d = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			l = true
		}
	}
	return d && l
}
