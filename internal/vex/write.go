package vex

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/package-url/packageurl-go"
)

// ErrNoStatements is returned by WriteOpenVEX for an empty list: an
// OpenVEX document holds at least one statement.
var ErrNoStatements = errors.New("write OpenVEX: no statements (an OpenVEX document needs at least one)")

// OpenVEXContext is the @context of the documents WriteOpenVEX writes.
const OpenVEXContext = "https://openvex.dev/ns/v0.2.0"

// wStatement and friends are the OpenVEX v0.2.0 shapes written.
type wDoc struct {
	Context    string       `json:"@context"`
	ID         string       `json:"@id"`
	Author     string       `json:"author"`
	Timestamp  string       `json:"timestamp"`
	Version    int          `json:"version"`
	Tooling    string       `json:"tooling,omitempty"`
	Statements []wStatement `json:"statements"`
}

type wStatement struct {
	Vulnerability   wVuln      `json:"vulnerability"`
	Timestamp       string     `json:"timestamp,omitempty"`
	Products        []wProduct `json:"products,omitempty"`
	Status          string     `json:"status"`
	Justification   string     `json:"justification,omitempty"`
	ImpactStatement string     `json:"impact_statement,omitempty"`
	ActionStatement string     `json:"action_statement,omitempty"`
	StatusNotes     string     `json:"status_notes,omitempty"`
}

type wVuln struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

type wProduct struct {
	ID            string            `json:"@id"`
	Identifiers   map[string]string `json:"identifiers,omitempty"`
	Subcomponents []wProduct        `json:"subcomponents,omitempty"`
}

// cdxToOpenVEX maps CycloneDX states to OpenVEX statuses.
var cdxToOpenVEX = map[string]string{
	StateResolved:             StatusFixed,
	StateResolvedWithPedigree: StatusFixed,
	StateExploitable:          StatusAffected,
	StateInTriage:             StatusUnderInvestigation,
	StateFalsePositive:        StatusNotAffected,
}

// cdxJustificationToOpenVEX maps CycloneDX justifications to the closest
// OpenVEX one (the CISA minimum-requirements mapping).
var cdxJustificationToOpenVEX = map[string]string{
	"code_not_present":                "vulnerable_code_not_present",
	"code_not_reachable":              "vulnerable_code_not_in_execute_path",
	"requires_configuration":          "vulnerable_code_cannot_be_controlled_by_adversary",
	"requires_dependency":             "component_not_present",
	"requires_environment":            "vulnerable_code_cannot_be_controlled_by_adversary",
	"protected_by_compiler":           "inline_mitigations_already_exist",
	"protected_at_runtime":            "inline_mitigations_already_exist",
	"protected_at_perimeter":          "inline_mitigations_already_exist",
	"protected_by_mitigating_control": "inline_mitigations_already_exist",
}

// WriteOpenVEX writes stmts as one OpenVEX v0.2.0 document by author.
// CycloneDX states and justifications are mapped to their OpenVEX
// equivalents (false_positive → not_affected, resolved → fixed, …). The
// document's timestamp is the latest statement's (now when none has one)
// and its @id is derived from its content, so the same statements give the
// same document. As the OpenVEX spec requires, every statement needs a
// product, a not_affected one a justification or an impact, and an
// affected one an action.
func WriteOpenVEX(w io.Writer, stmts []Statement, author string) error {
	if len(stmts) == 0 {
		return ErrNoStatements
	}
	if strings.TrimSpace(author) == "" {
		return fmt.Errorf("write OpenVEX: an author is required (a person or team, e.g. platform-team@example.com)")
	}
	doc := wDoc{Context: OpenVEXContext, Author: author, Version: 1, Tooling: "bulkhead", Statements: make([]wStatement, 0, len(stmts))}
	var latest time.Time
	for i, s := range stmts {
		ws, err := openVEXStatement(s)
		if err != nil {
			return fmt.Errorf("write OpenVEX: statement %d (%s): %w", i, s.VulnID, err)
		}
		if s.Timestamp.After(latest) {
			latest = s.Timestamp
		}
		doc.Statements = append(doc.Statements, ws)
	}
	if latest.IsZero() {
		latest = time.Now()
	}
	doc.Timestamp = latest.UTC().Format(time.RFC3339)
	body, err := json.Marshal(doc.Statements)
	if err != nil {
		return fmt.Errorf("write OpenVEX: %w", err)
	}
	sum := sha256.Sum256(append([]byte(author+"\x00"+doc.Timestamp+"\x00"), body...))
	doc.ID = "https://openvex.dev/docs/public/vex-" + hex.EncodeToString(sum[:])
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("write OpenVEX: %w", err)
	}
	return nil
}

func openVEXStatement(s Statement) (wStatement, error) {
	if strings.TrimSpace(s.VulnID) == "" {
		return wStatement{}, fmt.Errorf("no vulnerability id")
	}
	status := strings.ToLower(s.Status)
	if m, ok := cdxToOpenVEX[status]; ok {
		status = m
	}
	if !oneOf(status, ovStatuses) {
		return wStatement{}, fmt.Errorf("status %q is neither an OpenVEX status (%s) nor a CycloneDX state", s.Status, strings.Join(ovStatuses, ", "))
	}
	just := s.Justification
	if m, ok := cdxJustificationToOpenVEX[just]; ok {
		just = m
	}
	if strings.ToLower(s.Status) == StateFalsePositive && just == "" {
		just = "vulnerable_code_not_present"
	}
	if just != "" && !oneOf(just, ovJustifications) {
		return wStatement{}, fmt.Errorf("justification %q is not an OpenVEX justification (%s)", s.Justification, strings.Join(ovJustifications, ", "))
	}
	if status == StatusNotAffected && just == "" && strings.TrimSpace(s.Impact) == "" {
		return wStatement{}, fmt.Errorf("not_affected needs a justification or an impact statement (the reason)")
	}
	if status == StatusAffected && strings.TrimSpace(s.Action) == "" {
		return wStatement{}, fmt.Errorf("affected needs an action statement (what users should do)")
	}
	ws := wStatement{
		Vulnerability: wVuln{Name: s.VulnID},
		Status:        status,
		Justification: just,
	}
	seen := map[string]bool{normID(s.VulnID): true}
	for _, a := range s.Aliases {
		if k := normID(a); k != "" && !seen[k] {
			seen[k] = true
			ws.Vulnerability.Aliases = append(ws.Vulnerability.Aliases, a)
		}
	}
	if status == StatusNotAffected {
		// The OpenVEX JSON schema takes a justification or an impact
		// statement, not both: with a justification the reason goes to
		// status_notes (Load reads it back as Impact).
		if just != "" {
			ws.StatusNotes = s.Impact
		} else {
			ws.ImpactStatement = s.Impact
		}
	}
	if status == StatusAffected {
		ws.ActionStatement = s.Action
	}
	if len(s.Products) == 0 && len(s.Subcomponents) == 0 {
		return wStatement{}, fmt.Errorf("no product: name at least one (a package PURL, or the image), as an OpenVEX statement must")
	}
	if !s.Timestamp.IsZero() {
		ws.Timestamp = s.Timestamp.UTC().Format(time.RFC3339)
	}
	var subs []wProduct
	for _, sc := range s.Subcomponents {
		subs = append(subs, wProductFor(sc))
	}
	for _, p := range s.Products {
		wp := wProductFor(p)
		wp.Subcomponents = subs
		ws.Products = append(ws.Products, wp)
	}
	if len(s.Products) == 0 && len(subs) > 0 {
		ws.Products = subs
	}
	return ws, nil
}

// wProductFor makes a product of an identifier: a PURL, an IRI, or an
// image reference, which is written as its pkg:oci PURL (an @id must be an
// IRI).
func wProductFor(id string) wProduct {
	if !strings.HasPrefix(id, "pkg:") && !strings.Contains(id, ":/") && !strings.HasPrefix(id, "urn:") {
		if p, ok := ociPURL(id); ok {
			id = p
		}
	}
	p := wProduct{ID: id}
	if strings.HasPrefix(id, "pkg:") {
		p.Identifiers = map[string]string{"purl": id}
	}
	return p
}

// ociPURL turns an image reference into its PURL (purl-spec type oci):
// pkg:oci/NAME[@DIGEST]?repository_url=REGISTRY/REPO[&tag=TAG].
func ociPURL(ref string) (string, bool) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", false
	}
	repo := r.Context()
	last := repo.RepositoryStr()
	if i := strings.LastIndexByte(last, '/'); i >= 0 {
		last = last[i+1:]
	}
	q := []packageurl.Qualifier{{Key: "repository_url", Value: repo.RegistryStr() + "/" + repo.RepositoryStr()}}
	version := ""
	switch t := r.(type) {
	case name.Digest:
		version = t.DigestStr()
	case name.Tag:
		q = append(q, packageurl.Qualifier{Key: "tag", Value: t.TagStr()})
	}
	return packageurl.NewPackageURL("oci", "", last, version, q, "").ToString(), true
}
