package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"time"
)

// OpenVEX export of accepted exceptions (bulkhead policy vex). This is a
// minimal writer of OpenVEX 0.2.0 (https://github.com/openvex/spec); when
// internal/vex lands, vex.WriteOpenVEX replaces it.

type openVEXDoc struct {
	Context    string             `json:"@context"`
	ID         string             `json:"@id"`
	Author     string             `json:"author"`
	Timestamp  string             `json:"timestamp"`
	Version    int                `json:"version"`
	Tooling    string             `json:"tooling,omitempty"`
	Statements []openVEXStatement `json:"statements"`
}

type openVEXStatement struct {
	Vulnerability   openVEXVuln      `json:"vulnerability"`
	Products        []openVEXProduct `json:"products,omitempty"`
	Status          string           `json:"status"`
	ImpactStatement string           `json:"impact_statement,omitempty"`
}

type openVEXVuln struct {
	Name string `json:"name"`
}

type openVEXProduct struct {
	ID            string              `json:"@id"`
	Subcomponents []openVEXSubproduct `json:"subcomponents,omitempty"`
}

type openVEXSubproduct struct {
	ID string `json:"@id"`
}

// vulnIDRe recognises vulnerability identifiers; exceptions for secrets,
// misconfiguration checks and the like are not VEX material.
var vulnIDRe = regexp.MustCompile(`^(CVE-\d{4}-\d+|GHSA(-[0-9a-z]{4}){3}|[A-Z][A-Za-z]*-\d{4}-[0-9A-Za-z.:-]+|(DSA|DLA|DTSA|USN|RHSA|RLSA|ALSA|ALAS|ALAS2|ELSA|SUSE-SU|openSUSE-SU)-[0-9A-Za-z:.-]+|GO-\d{4}-\d+)$`)

// IsVulnID reports whether an exception id names a vulnerability.
func IsVulnID(id string) bool { return vulnIDRe.MatchString(id) }

// VEXExceptions returns the exceptions that are VEX material at now: not
// expired, and about a vulnerability id.
func VEXExceptions(ex []Exception, now time.Time) []Exception {
	var out []Exception
	for _, e := range ex {
		if !e.Expired(now) && IsVulnID(e.ID) {
			out = append(out, e)
		}
	}
	return out
}

// WriteOpenVEX writes the exceptions as an OpenVEX document: each is a
// not_affected statement whose impact statement is the reason, owner and
// expiry. The product is the exception's image scope (or "*" for any
// image); a package scope becomes a subcomponent pkg:generic/NAME.
func WriteOpenVEX(w io.Writer, ex []Exception, author, tooling string, now time.Time) error {
	doc := openVEXDoc{Context: "https://openvex.dev/ns/v0.2.0", Author: author,
		Timestamp: now.UTC().Format(time.RFC3339), Version: 1, Tooling: tooling, Statements: []openVEXStatement{}}
	sorted := append([]Exception(nil), ex...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	h := sha256.New()
	for _, e := range sorted {
		impact := e.Reason
		if e.Owner != "" {
			impact += " (owner: " + e.Owner + ")"
		}
		impact += "; accepted until " + e.ExpiresString()
		prod := openVEXProduct{ID: "*"}
		if e.Image != "" {
			prod.ID = e.Image
		}
		if e.Package != "" {
			prod.Subcomponents = []openVEXSubproduct{{ID: "pkg:generic/" + e.Package}}
		}
		doc.Statements = append(doc.Statements, openVEXStatement{Vulnerability: openVEXVuln{Name: e.ID},
			Products: []openVEXProduct{prod}, Status: "not_affected", ImpactStatement: impact})
		io.WriteString(h, e.ID+"\x00"+e.Package+"\x00"+e.Image+"\x00"+impact+"\x00")
	}
	doc.ID = "https://bulkhead.dev/vex/" + hex.EncodeToString(h.Sum(nil))[:32]
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
