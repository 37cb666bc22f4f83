// Package report writes an inventory in the formats bulkhead offers: SBOMs
// (CycloneDX 1.6 JSON, with its vulnerabilities; SPDX 2.3 JSON), bulkhead's
// own JSON (what later stages and --baseline read back, see ReadJSON), a
// table for people, SARIF 2.1.0 for code scanning and JUnit XML for CI
// dashboards.
//
// An inventory's Vulnerabilities (and Secrets) are nil when that scanner
// did not run and empty when it found nothing; the formats that carry
// findings keep the difference (SPDX carries packages only; CycloneDX
// carries vulnerabilities, not secrets).
//
// Every writer is deterministic: for the same inventory and Options the
// output is byte for byte the same. Packages, vulnerabilities and secrets
// are written in a total order that does not depend on the order of the
// input, and the only varying inputs, the clock and the UUIDs, come from
// Options.
package report

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/policy"
	"github.com/google/go-containerregistry/pkg/name"
	packageurl "github.com/package-url/packageurl-go"
)

// Format names accepted by Write.
const (
	FormatCycloneDXJSON = "cyclonedx-json"
	FormatSPDXJSON      = "spdx-json"
	FormatJSON          = "json"
	FormatTable         = "table"
	FormatSARIF         = "sarif"
	FormatJUnit         = "junit"
	FormatGitLab        = "gitlab" // GitLab container-scanning report
)

// ErrUnknownFormat is returned, wrapped, for a format name Write does not
// know; the message lists the valid ones.
var ErrUnknownFormat = errors.New("unknown report format")

// Options are the inputs of a report besides the inventory. The zero value
// is ready to use; tests set Now and UUID to get the same bytes every run.
type Options struct {
	ToolVersion string           // bulkhead's version, set by the CLI; "devel" when empty
	Now         func() time.Time // document timestamps; time.Now when nil
	UUID        func() string    // serial number and namespace; a random version 4 UUID when nil
	// Verdict is the policy's verdict, when a policy (or --fail-on) was
	// evaluated: the table ends with its WHY block, the JSON report
	// carries it, JUnit has one testcase per rule.
	Verdict *policy.Verdict
	// ShowSuppressed lists suppressed findings in the table's WHY block.
	ShowSuppressed bool
}

func (o Options) withDefaults() Options {
	if o.ToolVersion == "" {
		o.ToolVersion = "devel"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UUID == nil {
		o.UUID = newUUID
	}
	return o
}

func (o *Options) timestamp() string {
	return o.Now().UTC().Format(time.RFC3339)
}

type writeFunc func(w io.Writer, inv *inventory.Inventory, opts *Options) error

var writers = map[string]writeFunc{
	FormatCycloneDXJSON: writeCycloneDX,
	FormatSPDXJSON:      writeSPDX,
	FormatJSON:          writeJSON,
	FormatTable:         writeTable,
	FormatSARIF:         writeSARIF,
	FormatJUnit:         writeJUnit,
	FormatGitLab:        writeGitLab,
}

var aliases = map[string]string{
	"cyclonedx": FormatCycloneDXJSON,
	"spdx":      FormatSPDXJSON,
}

// Formats lists the format names Write accepts, aliases included, sorted.
func Formats() []string {
	names := make([]string, 0, len(writers)+len(aliases))
	for n := range writers {
		names = append(names, n)
	}
	for n := range aliases {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseFormat returns the canonical name of a format name or alias, so a
// command can reject a bad --format before it starts scanning.
func ParseFormat(format string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	if c, ok := aliases[f]; ok {
		f = c
	}
	if _, ok := writers[f]; !ok {
		return "", fmt.Errorf("%w %q (valid: %s)", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
	}
	return f, nil
}

// Write writes inv to w in the named format. It does not modify inv.
func Write(w io.Writer, format string, inv *inventory.Inventory, opts Options) error {
	f, err := ParseFormat(format)
	if err != nil {
		return err
	}
	if inv == nil {
		return errors.New("write report: nil inventory")
	}
	opts = opts.withDefaults()
	if err := writers[f](w, inv, &opts); err != nil {
		return fmt.Errorf("write %s report: %w", f, err)
	}
	return nil
}

// sortedPackages returns pointers to the packages in a total order: type,
// name, version, arch (as inventory.SortPackages), then PURL and locations,
// so that duplicates found in a different order still come out the same.
func sortedPackages(pkgs []inventory.Package) []*inventory.Package {
	out := make([]*inventory.Package, len(pkgs))
	for i := range pkgs {
		out[i] = &pkgs[i]
	}
	slices.SortStableFunc(out, comparePackages)
	return out
}

func comparePackages(a, b *inventory.Package) int {
	if c := cmp.Or(
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Version, b.Version),
		cmp.Compare(a.Arch, b.Arch),
		cmp.Compare(a.Epoch, b.Epoch),
		cmp.Compare(a.PURL, b.PURL),
	); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Locations, b.Locations, func(x, y inventory.Location) int {
		return cmp.Or(
			cmp.Compare(x.LayerIndex, y.LayerIndex),
			cmp.Compare(x.Path, y.Path),
			cmp.Compare(x.LayerDiffID, y.LayerDiffID),
		)
	})
}

// packageVersion is the version as users write it: RPM keeps its epoch
// apart in the model, dpkg and apk keep it inside Version.
func packageVersion(p *inventory.Package) string {
	if p.Epoch > 0 && !strings.Contains(p.Version, ":") {
		return strconv.Itoa(p.Epoch) + ":" + p.Version
	}
	return p.Version
}

// sourceName is the source package's name when it differs from the
// binary package's, else "".
func sourceName(p *inventory.Package) string {
	if p.Source == nil || p.Source.Name == p.Name {
		return ""
	}
	return p.Source.Name
}

func isImage(a *inventory.Artifact) bool {
	return a.Type == inventory.ArtifactImage
}

// artifactName is a readable name for what was scanned, never empty.
func artifactName(a *inventory.Artifact) string {
	switch {
	case a.Name != "":
		return a.Name
	case a.Ref != "":
		return a.Ref
	case a.ConfigDigest != "":
		return a.ConfigDigest
	}
	return "unknown"
}

// artifactDigest identifies an image: the manifest digest when the source
// had a manifest, else the config digest (the image ID).
func artifactDigest(a *inventory.Artifact) string {
	if a.ManifestDigest != "" {
		return a.ManifestDigest
	}
	return a.ConfigDigest
}

// artifactPURL is the pkg:oci PURL of an image whose digest is known, else
// "". The name is the last element of the repository; repository_url and
// tag are set when the image's name parses as a reference.
func artifactPURL(a *inventory.Artifact) string {
	digest := artifactDigest(a)
	if !isImage(a) || digest == "" {
		return ""
	}
	refName := a.Name
	if len(a.RepoTags) > 0 {
		refName = a.RepoTags[0]
	}
	var q packageurl.Qualifiers
	if a.Architecture != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: a.Architecture})
	}
	var pname string
	if ref, err := name.ParseReference(refName); err == nil && refName != "" {
		repo := ref.Context()
		pname = path.Base(repo.RepositoryStr())
		q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repo.Name()})
		if t, ok := ref.(name.Tag); ok {
			q = append(q, packageurl.Qualifier{Key: "tag", Value: t.TagStr()})
		}
	} else {
		// A path (oci-layout directory, archive file): its base name.
		pname = path.Base(strings.TrimRight(strings.ReplaceAll(refName, `\`, "/"), "/"))
		if pname == "." || pname == "/" || pname == "" {
			pname = "image"
		}
	}
	return packageurl.NewPackageURL("oci", "", strings.ToLower(pname), digest, q, "").ToString()
}

// shortDigest shortens "sha256:<64 hex>" to "sha256:<12 hex>".
func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
