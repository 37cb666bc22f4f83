// Package inventory holds the data model shared by every stage of a scan:
// what an image or directory contains (OS, packages) and where each item was
// found (path, layer, and the instruction that created the layer).
package inventory

import (
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Package types as used in PURLs and reports.
const (
	TypeDeb = "deb"
	TypeApk = "apk"
	TypeRPM = "rpm"
)

// Layer describes one layer of an image, in image order (0 is the base).
type Layer struct {
	Index     int    `json:"index"`
	DiffID    string `json:"diffID"`
	Digest    string `json:"digest,omitempty"`
	Size      int64  `json:"size,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Location is where an item was found: a path inside the image or directory
// and, for images, the layer that added it.
type Location struct {
	Path        string `json:"path"`
	LayerIndex  int    `json:"layerIndex"`
	LayerDiffID string `json:"layerDiffID,omitempty"`
	CreatedBy   string `json:"createdBy,omitempty"`
}

// NoLayer is the LayerIndex of locations in a directory scan.
const NoLayer = -1

// OS is the operating system an image or root filesystem declares.
type OS struct {
	ID         string   `json:"id"`                  // os-release ID: debian, alpine, rhel, ...
	VersionID  string   `json:"versionID,omitempty"` // 12, 3.20.1, 9.4
	Codename   string   `json:"codename,omitempty"`  // bookworm
	Name       string   `json:"name,omitempty"`      // PRETTY_NAME or NAME
	IDLike     []string `json:"idLike,omitempty"`    // ID_LIKE
	Location   Location `json:"location"`
	EOLWarning string   `json:"eolWarning,omitempty"` // set by later stages
}

// Family returns the distribution family: the ID itself for the well-known
// ones, else the first ID_LIKE entry we know.
func (o *OS) Family() string {
	if o == nil {
		return ""
	}
	known := map[string]bool{"debian": true, "ubuntu": true, "alpine": true, "rhel": true, "fedora": true, "centos": true,
		"rocky": true, "almalinux": true, "amzn": true, "ol": true, "sles": true, "opensuse-leap": true, "wolfi": true,
		"chainguard": true, "mariner": true, "azurelinux": true, "photon": true}
	if known[o.ID] {
		return o.ID
	}
	for _, l := range o.IDLike {
		if known[l] {
			return l
		}
	}
	return o.ID
}

// Source is the source package a binary package was built from. Distro
// advisories are keyed by it.
type Source struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Package is one installed or declared software package.
type Package struct {
	Name          string     `json:"name"`
	Version       string     `json:"version"`
	Type          string     `json:"type"` // deb, apk, rpm, ...
	Arch          string     `json:"arch,omitempty"`
	Epoch         int        `json:"epoch,omitempty"` // rpm only; deb keeps the epoch inside Version
	Source        *Source    `json:"source,omitempty"`
	Licenses      []string   `json:"licenses,omitempty"`
	Maintainer    string     `json:"maintainer,omitempty"`
	PURL          string     `json:"purl"`
	FoundBy       string     `json:"foundBy"`
	Locations     []Location `json:"locations"`
	InstalledSize int64      `json:"installedSize,omitempty"`
	// Dev is set when a lockfile says the package is needed only for
	// development (npm "dev", poetry and uv dev groups); found at more
	// than one place, it stays set only if every place says so. Packages
	// found installed on disk never carry it: what is installed ships.
	Dev bool `json:"dev,omitempty"`
	// Private marks an application's own manifest that says it is never
	// published (npm "private": true). It is listed, as Syft and Trivy
	// list it, but not matched against a registry's advisories: those are
	// about another package that happens to have the same name.
	Private bool `json:"private,omitempty"`
	// OtherPURLs are the identifiers of the same software in another
	// ecosystem: a Debian python3-requests is also pkg:pypi/requests.
	OtherPURLs []string `json:"otherPURLs,omitempty"`
}

// Key identifies a package for de-duplication across layers and paths.
func (p *Package) Key() string {
	return p.Type + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Arch
}

// SortPackages orders packages by type, name, version, arch: reports are
// deterministic.
func SortPackages(pkgs []Package) {
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := &pkgs[i], &pkgs[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Arch < b.Arch
	})
}

// Warning is something the scan could not fully look at: a file an analyzer
// failed on, a layer that could not be read. Reports list them so a partial
// result is never silent.
type Warning struct {
	Analyzer string `json:"analyzer,omitempty"`
	Path     string `json:"path,omitempty"`
	Layer    string `json:"layer,omitempty"` // diffID
	Message  string `json:"message"`
}

func (w Warning) String() string {
	var b strings.Builder
	if w.Analyzer != "" {
		b.WriteString(w.Analyzer + ": ")
	}
	if w.Path != "" {
		b.WriteString(w.Path)
		if w.Layer != "" {
			b.WriteString(" (layer " + shortDigest(w.Layer) + ")")
		}
		b.WriteString(": ")
	} else if w.Layer != "" {
		b.WriteString("layer " + shortDigest(w.Layer) + ": ")
	}
	b.WriteString(w.Message)
	return b.String()
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// Artifact describes what was scanned.
type Artifact struct {
	Ref            string   `json:"ref"`  // as the user wrote it
	Type           string   `json:"type"` // container_image or filesystem
	Transport      string   `json:"transport,omitempty"`
	Name           string   `json:"name"`
	RepoTags       []string `json:"repoTags,omitempty"`
	RepoDigests    []string `json:"repoDigests,omitempty"`
	ManifestDigest string   `json:"manifestDigest,omitempty"`
	ConfigDigest   string   `json:"configDigest,omitempty"` // the image ID
	Architecture   string   `json:"architecture,omitempty"`
	Created        string   `json:"created,omitempty"`
	Layers         []Layer  `json:"layers,omitempty"`
	// Labels are the image config's labels in the OCI annotation namespace
	// (org.opencontainers.image.*: base.name, base.digest, source, ...).
	// Other labels are left out: they may carry credentials, which a
	// report must not repeat.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are the image manifest's annotations in the same
	// namespace, when the source has a manifest (OCI layout, registry).
	Annotations map[string]string `json:"annotations,omitempty"`
	// LabelKeys are the names (only) of all the image config's labels,
	// sorted, for policies that require labels outside that namespace.
	LabelKeys []string `json:"labelKeys,omitempty"`
	// User is the image config's User, for non-root policies.
	User string `json:"user,omitempty"`
}

// OCIAnnotationPrefix is the namespace of the annotations and labels
// Artifact keeps.
const OCIAnnotationPrefix = "org.opencontainers.image."

// Well-known OCI annotations (image-spec annotations.md).
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// OCIKeys returns the entries of m whose key is in the
// org.opencontainers.image. namespace, or nil when there are none.
func OCIKeys(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if strings.HasPrefix(k, OCIAnnotationPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// Artifact types.
const (
	ArtifactImage      = "container_image"
	ArtifactFilesystem = "filesystem"
)

// Inventory is everything a scan found, after layers were merged.
type Inventory struct {
	Artifact Artifact  `json:"artifact"`
	OS       *OS       `json:"os,omitempty"`
	Packages []Package `json:"packages"`
	// Vulnerabilities is nil when vulnerability scanning was not run.
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
	Secrets         []Secret        `json:"secrets,omitempty"`
	// Malware is nil when the malware scanner did not run.
	Malware []Malware `json:"malware,omitempty"`
	// Misconfigurations is nil when the misconfig scanner did not run.
	Misconfigurations []misconfig.Finding `json:"misconfigurations,omitempty"`
	Warnings          []Warning           `json:"warnings,omitempty"`
}

// Secret is a credential found in a file, the image config or its history.
// Match is always masked; the secret itself is never stored.
type Secret struct {
	RuleID      string `json:"ruleID"`
	Category    string `json:"category,omitempty"`
	Title       string `json:"title"`
	Severity    string `json:"severity"` // CRITICAL, HIGH, MEDIUM, LOW
	Path        string `json:"path"`     // file path, or config.Env:NAME, history[N]
	Line        int    `json:"line,omitempty"`
	Match       string `json:"match"`       // masked: first 4 characters, then *
	Fingerprint string `json:"fingerprint"` // sha256(rule + secret), shortened
	Example     bool   `json:"example,omitempty"`
	LayerDiffID string `json:"layerDiffID,omitempty"`
	LayerIndex  int    `json:"layerIndex"`
	CreatedBy   string `json:"createdBy,omitempty"`
	// DeletedInLayer is the index of the layer that removed the file, when
	// a later layer did: the secret still ships in the earlier layer.
	DeletedInLayer *int `json:"deletedInLayer,omitempty"`
}

// Malware is a file whose hash matched a malware signature.
type Malware struct {
	Signature      string `json:"signature"`
	Severity       string `json:"severity"` // CRITICAL
	Path           string `json:"path"`
	LayerDiffID    string `json:"layerDiffID,omitempty"`
	LayerIndex     int    `json:"layerIndex"`
	DeletedInLayer *int   `json:"deletedInLayer,omitempty"`
	CreatedBy      string `json:"createdBy,omitempty"`
	SHA256         string `json:"sha256,omitempty"` // only the matched hash is set
	MD5            string `json:"md5,omitempty"`
	SHA1           string `json:"sha1,omitempty"`
}

// Severities, most severe first.
const (
	SeverityCritical = "CRITICAL"
	SeverityHigh     = "HIGH"
	SeverityMedium   = "MEDIUM"
	SeverityLow      = "LOW"
	SeverityUnknown  = "UNKNOWN"
)

// SeverityRank orders severities: higher is worse; unknown is 0.
func SeverityRank(s string) int {
	switch strings.ToUpper(s) {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium, "MODERATE":
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// CVSS is one scored vector.
type CVSS struct {
	Version string  `json:"version"` // 3.1, 4.0
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	Source  string  `json:"source,omitempty"` // advisory id the vector came from
}

// VulnPackage is the package a vulnerability was matched on.
type VulnPackage struct {
	Name      string  `json:"name"`
	Version   string  `json:"version"`
	Type      string  `json:"type"`
	Ecosystem string  `json:"ecosystem"` // OSV ecosystem matched: Debian:12, npm
	PURL      string  `json:"purl"`
	Source    *Source `json:"source,omitempty"`
}

// Vulnerability is one vulnerability of one package: the OSV records that
// are aliases of each other merged into one finding.
type Vulnerability struct {
	ID             string      `json:"id"`                // CVE when known, else the advisory id
	Aliases        []string    `json:"aliases,omitempty"` // every other id naming it
	Upstream       []string    `json:"upstream,omitempty"`
	Advisories     []string    `json:"advisories"` // OSV record ids that matched
	Severity       string      `json:"severity"`
	SeveritySource string      `json:"severitySource,omitempty"` // cvss_v3 / cvss_v4 / database_specific / ...
	CVSS           []CVSS      `json:"cvss,omitempty"`
	FixedVersion   string      `json:"fixedVersion,omitempty"`
	Status         string      `json:"status"` // fixed | no fix yet
	MatchedRange   string      `json:"matchedRange"`
	Title          string      `json:"title,omitempty"`
	Description    string      `json:"description,omitempty"`
	References     []string    `json:"references,omitempty"`
	Published      string      `json:"published,omitempty"`
	Modified       string      `json:"modified,omitempty"`
	Package        VulnPackage `json:"package"`
	Location       Location    `json:"location"`
}

// Vulnerability statuses.
const (
	StatusFixed = "fixed"
	StatusNoFix = "no fix yet"
)
