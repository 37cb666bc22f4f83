package rust

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Binaries built with cargo-auditable carry their dependency tree as
// zlib-compressed JSON in an ELF section named .dep-v0
// (https://github.com/rust-secure-code/cargo-auditable, format in
// auditable-serde).

const (
	// MinBinarySize and MaxBinarySize bound the executables looked at.
	MinBinarySize = 1 << 10
	MaxBinarySize = 512 << 20
	// maxSection caps the compressed section, maxAuditJSON the JSON it
	// inflates to (the largest real ones are tens of KiB).
	maxSection   = 8 << 20
	maxAuditJSON = 16 << 20
	// AuditSection is the ELF section cargo-auditable writes.
	AuditSection = ".dep-v0"
)

var elfMagic = []byte("\x7fELF")

// errNoAudit: the file is no ELF or has no .dep-v0 section.
var errNoAudit = errors.New("no cargo-auditable data")

// ReadAuditSection returns the inflated .dep-v0 section of an ELF file,
// or errNoAudit.
func ReadAuditSection(r io.ReaderAt) ([]byte, error) {
	magic := make([]byte, 4)
	if _, err := r.ReadAt(magic, 0); err != nil || !bytes.Equal(magic, elfMagic) {
		return nil, errNoAudit
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, errNoAudit // not an ELF we can read: not ours to report
	}
	s := f.Section(AuditSection)
	if s == nil || s.Type == elf.SHT_NOBITS {
		return nil, errNoAudit
	}
	if s.Size > maxSection {
		return nil, fmt.Errorf("%s section of %d bytes over the %d-byte limit", AuditSection, s.Size, maxSection)
	}
	zr, err := zlib.NewReader(io.NewSectionReader(r, int64(s.Offset), int64(s.Size)))
	if err != nil {
		return nil, fmt.Errorf("%s section: %w", AuditSection, err)
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, maxAuditJSON+1))
	if err != nil {
		return nil, fmt.Errorf("%s section: %w", AuditSection, err)
	}
	if len(b) > maxAuditJSON {
		return nil, fmt.Errorf("%s section inflates past %d bytes", AuditSection, maxAuditJSON)
	}
	return b, nil
}

// ParseAudit decodes cargo-auditable's JSON and returns the crates.io
// crates compiled into the binary, each once, in file order. The root
// crate and local path crates are the binary's own code; git and other
// sources carry no registry version; build-time-only dependencies
// (kind "build": build scripts, proc macros) are not in the binary.
func ParseAudit(b []byte) ([]Crate, error) {
	var doc struct {
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Source  string `json:"source"`
			Kind    string `json:"kind"`
			Root    bool   `json:"root"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var out []Crate
	seen := map[Crate]bool{}
	for _, p := range doc.Packages {
		c := Crate{Name: strings.TrimSpace(p.Name), Version: strings.TrimSpace(p.Version), Source: CratesIO}
		if p.Root || p.Kind == "build" || !strings.EqualFold(p.Source, "crates.io") || c.Name == "" || c.Version == "" || strings.ContainsAny(c.Name+c.Version, " \t\r\n") || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}
