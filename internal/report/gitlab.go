package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// GitLab's container-scanning security report (gl-container-scanning-
// report.json, security report schema 15.x), for a merge request's
// security widget: one vulnerability per finding, located by package,
// version, operating system and image. Only vulnerabilities: secrets and
// misconfigurations have report types of their own in GitLab, which need
// a commit and a repository file.

// gitlabSchemaVersion is the security report schema version written.
const gitlabSchemaVersion = "15.2.5"

type gitlabReport struct {
	Version         string       `json:"version"`
	Schema          string       `json:"schema"`
	Scan            gitlabScan   `json:"scan"`
	Vulnerabilities []gitlabVuln `json:"vulnerabilities"`
}

type gitlabScan struct {
	Analyzer  gitlabComponent `json:"analyzer"`
	Scanner   gitlabComponent `json:"scanner"`
	Type      string          `json:"type"`
	StartTime string          `json:"start_time"`
	EndTime   string          `json:"end_time"`
	Status    string          `json:"status"`
}

type gitlabComponent struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	URL     string       `json:"url,omitempty"`
	Version string       `json:"version"`
	Vendor  gitlabVendor `json:"vendor"`
}

type gitlabVendor struct {
	Name string `json:"name"`
}

type gitlabVuln struct {
	ID          string             `json:"id"`
	Name        string             `json:"name,omitempty"`
	Description string             `json:"description,omitempty"`
	Severity    string             `json:"severity"`
	Solution    string             `json:"solution,omitempty"`
	Identifiers []gitlabIdentifier `json:"identifiers"`
	Links       []gitlabLink       `json:"links,omitempty"`
	Location    gitlabLocation     `json:"location"`
}

type gitlabIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

type gitlabLink struct {
	URL string `json:"url"`
}

type gitlabLocation struct {
	Dependency      gitlabDependency `json:"dependency"`
	OperatingSystem string           `json:"operating_system"`
	Image           string           `json:"image"`
}

type gitlabDependency struct {
	Package gitlabPackage `json:"package"`
	Version string        `json:"version"`
}

type gitlabPackage struct {
	Name string `json:"name"`
}

func writeGitLab(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	// The schema's times are ISO 8601 without a zone: UTC.
	now := opts.Now().UTC().Format("2006-01-02T15:04:05")
	bulkhead := gitlabComponent{ID: "bulkhead", Name: "bulkhead", URL: "https://github.com/bulkhead-sec/bulkhead",
		Version: opts.ToolVersion, Vendor: gitlabVendor{Name: "bulkhead"}}
	doc := gitlabReport{
		Version: gitlabSchemaVersion,
		Schema: "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v" + gitlabSchemaVersion +
			"/dist/container-scanning-report-format.json",
		Scan:            gitlabScan{Analyzer: bulkhead, Scanner: bulkhead, Type: "container_scanning", StartTime: now, EndTime: now, Status: "success"},
		Vulnerabilities: []gitlabVuln{},
	}
	osName := "unknown"
	if inv.OS != nil && inv.OS.ID != "" {
		osName = strings.TrimSuffix(inv.OS.ID+":"+inv.OS.VersionID, ":")
	}
	image := artifactName(&inv.Artifact)
	for _, v := range sortedVulns(inv.Vulnerabilities) {
		gv := gitlabVuln{
			ID:          gitlabID(image, v),
			Name:        truncateText(cmp.Or(v.Title, v.ID), 255),
			Description: truncateText(v.Description, 64<<10),
			Severity:    gitlabSeverity(v.Severity),
			Location: gitlabLocation{Dependency: gitlabDependency{Package: gitlabPackage{Name: v.Package.Name}, Version: v.Package.Version},
				OperatingSystem: osName, Image: image},
		}
		if v.FixedVersion != "" {
			gv.Solution = "Upgrade " + v.Package.Name + " to " + v.FixedVersion
		}
		seen := map[string]bool{}
		for _, id := range append([]string{v.ID}, v.Aliases...) {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			_, url := advisorySource(id)
			if !validURI(url) {
				url = ""
			}
			gv.Identifiers = append(gv.Identifiers, gitlabIdentifier{Type: gitlabIDType(id), Name: truncateText(id, 255), Value: truncateText(id, 255), URL: url})
		}
		for _, r := range v.References {
			if (strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://")) && validURI(r) && len(gv.Links) < 20 {
				gv.Links = append(gv.Links, gitlabLink{URL: r})
			}
		}
		doc.Vulnerabilities = append(doc.Vulnerabilities, gv)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(&doc)
}

// gitlabID is a UUID-shaped id stable across pipelines: the same
// vulnerability of the same package in the same image keeps its id, so
// GitLab tracks it instead of reporting it as new.
func gitlabID(image string, v *inventory.Vulnerability) string {
	sum := sha256.Sum256([]byte(image + "\x00" + v.ID + "\x00" + v.Package.PURL + "\x00" + v.Package.Name + "\x00" + v.Package.Version))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func gitlabSeverity(s string) string {
	switch severityName(s) {
	case inventory.SeverityCritical:
		return "Critical"
	case inventory.SeverityHigh:
		return "High"
	case inventory.SeverityMedium:
		return "Medium"
	case inventory.SeverityLow:
		return "Low"
	}
	return "Unknown"
}

func gitlabIDType(id string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "cve"
	case strings.HasPrefix(id, "GHSA-"):
		return "ghsa"
	}
	return "osv"
}

// truncateText cuts s to at most n bytes on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
