// Package vex reads VEX (Vulnerability Exploitability eXchange) statements
// from OpenVEX and CycloneDX documents and answers one question for the
// policy engine: does a statement say this vulnerability does not affect
// this package? It also writes accepted exceptions as an OpenVEX document.
//
// Two formats are read, told apart by their content:
//
//   - OpenVEX (https://openvex.dev, v0.2.0, and the v0.0.x shapes where
//     vulnerability and products were plain strings): statements with a
//     vulnerability (name, @id, aliases), products (by @id or
//     identifiers.purl, with subcomponents), status, justification,
//     impact_statement and timestamp. A statement without a timestamp takes
//     the document's.
//   - CycloneDX 1.4–1.7 JSON: vulnerabilities[] with an analysis (state,
//     justification, detail) and affects[].ref, which names a bom-ref of a
//     component in the same document (resolved to its PURL), a PURL, or a
//     BOM-Link (urn:cdx:…#ref, whose fragment is used). Vulnerabilities
//     without an analysis carry no VEX statement and are skipped. An
//     affects entry with versions covers the versions listed by value
//     (not those it marks affected when the state suppresses); version
//     ranges are not evaluated and cover nothing. 1.7 is read like 1.6.
//
// Matching (Lookup): a statement applies to a finding when one of the
// finding's ids (its id or any alias) equals the statement's vulnerability
// name or one of its aliases, compared case-insensitively, and one of the
// statement's products covers the finding's package PURL. A product PURL
// covers a package PURL when type, namespace and name are equal and every
// part the product sets (version, each qualifier, subpath) is equal too:
// pkg:deb/debian/openssl covers every version and architecture of openssl,
// pkg:deb/debian/openssl@3.0.11-1~deb12u2 only that version. A statement
// without products applies to every package. A product that is not a PURL
// of a package (an image reference, pkg:oci/…, pkg:docker/…) with no
// subcomponents applies to every package of that image; with subcomponents,
// to the packages the subcomponents name.
//
// The VEX documents given are taken to be about the scanned artifact: an
// image product is not compared with the image scanned. Subcomponents of
// all the products of one statement are pooled. A qualifier the statement
// sets must be equal in the package PURL, so a statement with
// distro=bookworm does not cover bulkhead's distro=debian-12 PURLs; leave
// the qualifier out to cover every distro release.
//
// When several statements apply, the latest wins, as the OpenVEX spec
// intends (a later statement about the same vulnerability and product
// overrides an earlier one): the one with the latest timestamp, and among
// equal timestamps the one read last (later in its file, or from a later
// file given to Load).
package vex

import (
	"strings"
	"time"
)

// OpenVEX statuses.
const (
	StatusNotAffected        = "not_affected"
	StatusAffected           = "affected"
	StatusFixed              = "fixed"
	StatusUnderInvestigation = "under_investigation"
)

// CycloneDX analysis states (the ones that differ from OpenVEX's names).
const (
	StateResolved             = "resolved"
	StateResolvedWithPedigree = "resolved_with_pedigree"
	StateExploitable          = "exploitable"
	StateInTriage             = "in_triage"
	StateFalsePositive        = "false_positive"
	StateNotAffected          = "not_affected"
)

// Formats a statement was read from.
const (
	FormatOpenVEX   = "openvex"
	FormatCycloneDX = "cyclonedx"
)

// Statement is one VEX statement about one vulnerability.
type Statement struct {
	// VulnID is the vulnerability's name (OpenVEX vulnerability.name,
	// CycloneDX vulnerabilities[].id).
	VulnID string
	// Aliases are the other ids of the vulnerability: OpenVEX aliases and
	// @id, CycloneDX references[].id.
	Aliases []string
	// Products are what the statement is about: PURLs or image references
	// (OpenVEX products[].@id or identifiers.purl, CycloneDX affects[].ref
	// resolved to a PURL where the document allows). Empty: everything.
	Products []string
	// Subcomponents are the packages inside the products the statement is
	// about (OpenVEX products[].subcomponents).
	Subcomponents []string
	// Status is as written: an OpenVEX status or a CycloneDX analysis
	// state, lower case.
	Status string
	// Justification is as written (OpenVEX justification or CycloneDX
	// analysis.justification).
	Justification string
	// Impact is OpenVEX impact_statement (status_notes when there is
	// none) or CycloneDX analysis.detail.
	Impact string
	// Action is OpenVEX action_statement (what to do about an affected
	// product); CycloneDX analysis.response joined with ", ".
	Action string
	// Source is where the statement was read: FILE#INDEX, INDEX counting
	// the document's statements (OpenVEX) or vulnerabilities (CycloneDX)
	// from 0.
	Source string
	// Format is FormatOpenVEX or FormatCycloneDX.
	Format string
	// Timestamp is when the statement was made; zero when neither it nor
	// its document says.
	Timestamp time.Time
}

// Suppresses reports whether the statement says the vulnerability does not
// need fixing in the products it names, so a finding it applies to should
// not block:
//
//   - not_affected (OpenVEX and CycloneDX): the product is not affected;
//   - false_positive (CycloneDX): the finding is wrong;
//   - fixed (OpenVEX) and resolved, resolved_with_pedigree (CycloneDX): the
//     product contains a fix, e.g. a backported patch the version number
//     does not show.
//
// affected, exploitable, under_investigation and in_triage do not suppress:
// they confirm the finding or leave it open.
func (s Statement) Suppresses() bool {
	switch strings.ToLower(s.Status) {
	case StatusNotAffected, StateFalsePositive, StatusFixed, StateResolved, StateResolvedWithPedigree:
		return true
	}
	return false
}

// IDs returns the statement's vulnerability name followed by its aliases.
func (s Statement) IDs() []string {
	out := make([]string, 0, 1+len(s.Aliases))
	if s.VulnID != "" {
		out = append(out, s.VulnID)
	}
	return append(out, s.Aliases...)
}
