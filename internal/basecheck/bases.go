// Package basecheck tells whether an image is built on an approved base
// image, by the real layer digests: the image's bottom layers must be
// exactly one approved base's layers, in order. An image that is not is
// drift from the approved images, reported with the nearest approved base
// and how many of its layers differ. When the base is known, every layer
// (and so every finding) is the base's or the app's.
//
// The approved bases are kept in a file that `bulkhead policy baseline REF`
// writes (LoadBases, WriteBases, Merge):
//
//	apiVersion: bulkhead.dev/v1
//	kind: BaseImages
//	bases:
//	  - name: debian-12
//	    ref: registry.example/debian:12
//	    digest: sha256:…          # manifest digest, when the source has one
//	    configDigest: sha256:…    # the image ID
//	    added: 2026-11-28T10:00:00Z
//	    diffIDs:                  # uncompressed layer digests, bottom first
//	      - sha256:…
package basecheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File format identifiers.
const (
	APIVersion = "bulkhead.dev/v1"
	Kind       = "BaseImages"
)

// MaxFileSize is the largest bases file LoadBases reads.
const MaxFileSize = 16 << 20

// Base is one approved base image.
type Base struct {
	// Name is how reports name the base (debian-12, platform/python).
	Name string `yaml:"name"`
	// Ref is the reference the base was recorded from.
	Ref string `yaml:"ref,omitempty"`
	// Digest is the manifest digest, when the source had a manifest.
	Digest string `yaml:"digest,omitempty"`
	// ConfigDigest is the config digest (the image ID).
	ConfigDigest string `yaml:"configDigest,omitempty"`
	// Added is when the base was recorded.
	Added time.Time `yaml:"added,omitempty"`
	// DiffIDs are the uncompressed layer digests, bottom layer first.
	DiffIDs []string `yaml:"diffIDs"`
	// Source is where the base was read: FILE#INDEX (not written).
	Source string `yaml:"-"`
}

type basesFile struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Bases      []Base `yaml:"bases"`
}

var digestRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// LoadBases reads an approved-bases file. An error names the file, the
// base (index and name) and what is wrong.
func LoadBases(file string) ([]Base, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read approved bases: %w", err)
	}
	defer f.Close()
	bases, err := ReadBases(f, file)
	if err != nil {
		return nil, err
	}
	return bases, nil
}

// ReadBases reads an approved-bases document from r; name is used in
// errors and in each base's Source.
func ReadBases(r io.Reader, name string) ([]Base, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read approved bases %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("approved bases %s: larger than %d MiB", name, MaxFileSize>>20)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("approved bases %s: %s (write the file with `bulkhead policy baseline REF -o %s`)", name, fmt.Sprintf(format, args...), name)
	}
	var doc basesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("empty file")
		}
		return nil, fail("%v", err)
	}
	if doc.APIVersion != APIVersion || doc.Kind != Kind {
		return nil, fail("apiVersion %q, kind %q: want apiVersion %s, kind %s", doc.APIVersion, doc.Kind, APIVersion, Kind)
	}
	seen := map[string]int{}
	for i := range doc.Bases {
		b := &doc.Bases[i]
		b.Name = strings.TrimSpace(b.Name)
		where := fmt.Sprintf("bases[%d]", i)
		if b.Name == "" {
			return nil, fail("%s has no name", where)
		}
		where += " (" + b.Name + ")"
		if j, ok := seen[b.Name]; ok {
			return nil, fail("%s: the name is already used by bases[%d]", where, j)
		}
		seen[b.Name] = i
		if len(b.DiffIDs) == 0 {
			return nil, fail("%s has no diffIDs", where)
		}
		for j, d := range b.DiffIDs {
			if !digestRE.MatchString(d) {
				return nil, fail("%s: diffIDs[%d] %q is not a layer digest (sha256:<64 hex digits>)", where, j, short(d))
			}
		}
		for _, d := range []string{b.Digest, b.ConfigDigest} {
			if d != "" && !digestRE.MatchString(d) {
				return nil, fail("%s: %q is not a digest (sha256:<64 hex digits>)", where, short(d))
			}
		}
		b.Source = fmt.Sprintf("%s#%d", name, i)
	}
	return doc.Bases, nil
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// WriteBases writes bases as an approved-bases document, sorted by name.
func WriteBases(w io.Writer, bases []Base) error {
	sorted := append([]Base(nil), bases...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	buf.WriteString("# Approved base images, by their layer digests (bottom layer first).\n" +
		"# Written by `bulkhead policy baseline`; an image is on an approved base when\n" +
		"# its bottom layers are exactly one base's diffIDs.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(basesFile{APIVersion: APIVersion, Kind: Kind, Bases: sorted}); err != nil {
		return fmt.Errorf("write approved bases: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write approved bases: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Merge adds bases to existing: a base with the name of an existing one
// replaces it (a re-recorded base image), others are appended. The result
// is sorted by name.
func Merge(existing, bases []Base) []Base {
	out := append([]Base(nil), existing...)
	for _, b := range bases {
		replaced := false
		for i := range out {
			if out[i].Name == b.Name {
				out[i] = b
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
