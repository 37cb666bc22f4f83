// Package baseline answers "was this finding already there?" for the gate's
// --baseline: only findings that a previous bulkhead JSON report did not
// have may block, so a pipeline fails on what a change introduced.
//
// A finding is identified by a key that survives the changes that do not
// make it new:
//
//   - a vulnerability by its id, the package name and the package type and
//     ecosystem, not the version: after a patch bump that leaves a CVE
//     unfixed, it is still the same finding. Every alias of a baseline
//     vulnerability is a key too, so a finding reported under its GHSA id
//     yesterday and its CVE id today (the advisory database learned the
//     CVE) stays pre-existing; use Set.HasVuln to check all of a finding's
//     ids;
//   - a secret by its fingerprint (a hash of the rule and the secret
//     value): the same credential in another file or on another line is
//     still the same leak, a rotated one is new;
//   - a misconfiguration by check id, file path and resource, not the line:
//     an unrelated edit above it does not make it new;
//   - malware by signature and SHA-256 (the file's content), not its path.
package baseline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/report"
)

// MaxFileSize is the largest report Load reads.
const MaxFileSize = 512 << 20

// Set is the findings of one baseline report, by key.
type Set struct {
	keys map[string]struct{}
	// Artifact is what the baseline report was about.
	Artifact inventory.Artifact
	// Counts of the report's findings per class.
	Vulnerabilities, Secrets, Misconfigurations, Malware int
}

// Key prefixes keep the classes apart.
const (
	vulnPrefix      = "vuln\x00"
	secretPrefix    = "secret\x00"
	misconfigPrefix = "misconfig\x00"
	malwarePrefix   = "malware\x00"
)

// VulnKey identifies a vulnerability finding across versions of its
// package: advisory id, package name, package type and ecosystem.
func VulnKey(v inventory.Vulnerability) string {
	return vulnKey(v.ID, &v.Package)
}

func vulnKey(id string, p *inventory.VulnPackage) string {
	return vulnPrefix + strings.ToUpper(strings.TrimSpace(id)) + "\x00" + p.Name + "\x00" + p.Type + "\x00" + p.Ecosystem
}

// SecretKey identifies a secret by its fingerprint. A finding without one
// (a hand-edited report) falls back to rule, path and masked match.
func SecretKey(s inventory.Secret) string {
	if s.Fingerprint != "" {
		return secretPrefix + s.Fingerprint
	}
	return secretPrefix + "\x00" + s.RuleID + "\x00" + s.Path + "\x00" + s.Match
}

// MisconfigKey identifies a misconfiguration by check id, file path,
// resource and message; the line is left out, so an edit above it does not
// make it new. The message names the occurrence ("ENV AWS_SECRET_ACCESS_KEY
// holds a secret"): without it a second finding of the same check in the
// same Dockerfile stage or container would pass as the first.
func MisconfigKey(f misconfig.Finding) string {
	return misconfigPrefix + f.ID + "\x00" + f.Path + "\x00" + f.Resource + "\x00" + f.Message
}

// MalwareKey identifies malware by signature and SHA-256. A finding
// matched by another hash uses that hash; one with no hash, its path.
func MalwareKey(m inventory.Malware) string {
	h := m.SHA256
	switch {
	case h != "":
	case m.SHA1 != "":
		h = "sha1:" + m.SHA1
	case m.MD5 != "":
		h = "md5:" + m.MD5
	default:
		h = "path:" + m.Path
	}
	return malwarePrefix + m.Signature + "\x00" + strings.ToLower(h)
}

// Has reports whether the baseline holds a finding with this key (one of
// the key functions' results).
func (s *Set) Has(key string) bool {
	if s == nil {
		return false
	}
	_, ok := s.keys[key]
	return ok
}

// HasVuln reports whether the baseline holds v under its id or any of its
// aliases.
func (s *Set) HasVuln(v inventory.Vulnerability) bool {
	if s == nil {
		return false
	}
	if s.Has(VulnKey(v)) {
		return true
	}
	for _, a := range v.Aliases {
		if s.Has(vulnKey(a, &v.Package)) {
			return true
		}
	}
	return false
}

// Len returns the number of distinct keys.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// FromInventory builds a set from an inventory's findings.
func FromInventory(inv *inventory.Inventory) *Set {
	s := &Set{
		keys:              make(map[string]struct{}, len(inv.Vulnerabilities)*2+len(inv.Secrets)+len(inv.Misconfigurations)+len(inv.Malware)),
		Artifact:          inv.Artifact,
		Vulnerabilities:   len(inv.Vulnerabilities),
		Secrets:           len(inv.Secrets),
		Misconfigurations: len(inv.Misconfigurations),
		Malware:           len(inv.Malware),
	}
	for i := range inv.Vulnerabilities {
		v := &inv.Vulnerabilities[i]
		s.keys[vulnKey(v.ID, &v.Package)] = struct{}{}
		for _, a := range v.Aliases {
			s.keys[vulnKey(a, &v.Package)] = struct{}{}
		}
	}
	for _, x := range inv.Secrets {
		s.keys[SecretKey(x)] = struct{}{}
	}
	for _, x := range inv.Misconfigurations {
		s.keys[MisconfigKey(x)] = struct{}{}
	}
	for _, x := range inv.Malware {
		s.keys[MalwareKey(x)] = struct{}{}
	}
	return s
}

// Load reads a bulkhead JSON report (bulkhead scan … --format json) as a
// baseline. A file that is some other document says what it is.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return s, nil
}

// kinds are the documents Read recognises when a file is not a bulkhead
// report, to say what it is instead.
var kinds = []struct{ key, what string }{
	{"bomFormat", "a CycloneDX document"},
	{"spdxVersion", "an SPDX document"},
	{"@context", "a JSON-LD document (OpenVEX?)"},
	{"runs", "a SARIF log"},
	{"Results", "a Trivy report"},
	{"matches", "a Grype report"},
}

const howTo = "give a report written by `bulkhead scan image|fs … --format json -o FILE` on the previous version"

// Read reads a bulkhead JSON report from r.
func Read(r io.Reader) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB; %s", MaxFileSize>>20, howTo)
	}
	var head map[string]json.RawMessage
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a bulkhead JSON report (not a JSON object: %v); %s", err, howTo)
	}
	if _, ok := head["schemaVersion"]; !ok {
		for _, k := range kinds {
			if _, ok := head[k.key]; ok {
				return nil, fmt.Errorf("this is %s, not a bulkhead JSON report; %s", k.what, howTo)
			}
		}
		return nil, fmt.Errorf("not a bulkhead JSON report (no schemaVersion); %s", howTo)
	}
	if _, ok := head["artifact"]; !ok {
		return nil, fmt.Errorf("not a bulkhead JSON report (no artifact); %s", howTo)
	}
	inv, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, howTo)
	}
	if inv.Vulnerabilities == nil && inv.Secrets == nil && inv.Misconfigurations == nil && inv.Malware == nil {
		return nil, fmt.Errorf("the report has no findings section: it was written without scanners (bulkhead sbom?); %s", howTo)
	}
	return FromInventory(inv), nil
}
