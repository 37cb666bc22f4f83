package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// Limits on hostile input.
const (
	// MaxFileSize is the largest VEX document Load reads.
	MaxFileSize = 64 << 20
	// maxIDLen bounds one identifier (an id, a PURL, a reference).
	maxIDLen = 4096
)

// Load reads the VEX documents at paths (OpenVEX or CycloneDX JSON, told
// apart by content) into one Set. An error names the file and what is
// wrong with it; nothing is loaded from a file with an error.
func Load(paths ...string) (*Set, error) {
	s := &Set{byID: map[string][]int{}}
	for _, p := range paths {
		data, err := readLimited(p)
		if err != nil {
			return nil, err
		}
		if err := s.parse(p, data); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Parse reads one VEX document from r; name is used in errors and in each
// statement's Source.
func Parse(name string, r io.Reader) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read VEX document %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("VEX document %s: larger than %d MiB", name, MaxFileSize>>20)
	}
	s := &Set{byID: map[string][]int{}}
	if err := s.parse(name, data); err != nil {
		return nil, err
	}
	return s, nil
}

func readLimited(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read VEX document: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read VEX document %s: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("VEX document %s: larger than %d MiB", p, MaxFileSize>>20)
	}
	return data, nil
}

// parse adds the statements of one document; on error the set is left as
// it was.
func (s *Set) parse(name string, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return fmt.Errorf("VEX document %s: XML is not read; give CycloneDX VEX as JSON (cyclonedx convert --output-format json) or OpenVEX", name)
	}
	var head struct {
		Context   json.RawMessage `json:"@context"`
		BOMFormat string          `json:"bomFormat"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("VEX document %s: not a JSON object: %w", name, err)
	}
	var ctx string
	_ = json.Unmarshal(head.Context, &ctx)
	var stmts []pending
	var err error
	switch {
	case strings.Contains(ctx, "openvex.dev/ns"):
		stmts, err = parseOpenVEX(name, data)
	case head.BOMFormat == "CycloneDX":
		stmts, err = parseCycloneDX(name, data)
	default:
		return fmt.Errorf("VEX document %s: neither OpenVEX (\"@context\": \"https://openvex.dev/ns/v0.2.0\") nor CycloneDX (\"bomFormat\": \"CycloneDX\")", name)
	}
	if err != nil {
		return err
	}
	for _, p := range stmts {
		s.addPending(p)
	}
	return nil
}

// pending is a statement with how to read its non-PURL products.
type pending struct {
	Statement
	// image tells whether a non-PURL product is an image (covers all its
	// packages) rather than an unresolved component (covers none).
	image func(string) bool
}

func (s *Set) addPending(p pending) {
	s.add(p.Statement)
	e := &s.stmts[len(s.stmts)-1]
	for i := range e.products {
		pr := &e.products[i]
		if pr.purl == nil && pr.image && p.image != nil && !p.image(pr.raw) {
			pr.image = false
		}
	}
}

// --- OpenVEX ---

type ovDoc struct {
	Context    string        `json:"@context"`
	ID         string        `json:"@id"`
	Author     string        `json:"author"`
	Timestamp  string        `json:"timestamp"`
	Statements []ovStatement `json:"statements"`
}

type ovStatement struct {
	Vulnerability   json.RawMessage `json:"vulnerability"`
	Products        []ovProduct     `json:"products"`
	Status          string          `json:"status"`
	Justification   string          `json:"justification"`
	ImpactStatement string          `json:"impact_statement"`
	ActionStatement string          `json:"action_statement"`
	StatusNotes     string          `json:"status_notes"`
	Timestamp       string          `json:"timestamp"`
	LastUpdated     string          `json:"last_updated"`
}

type ovVuln struct {
	ID      string   `json:"@id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

// ovProduct is a product or subcomponent: an object, or (OpenVEX v0.0.x)
// a plain string.
type ovProduct struct {
	ID            string            `json:"@id"`
	Identifiers   map[string]string `json:"identifiers"`
	Subcomponents []ovProduct       `json:"subcomponents"`
}

func (p *ovProduct) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.ID)
	}
	type plain ovProduct
	return json.Unmarshal(b, (*plain)(p))
}

// id is the product's identifier for matching: the PURL when it has one,
// else its @id.
func (p *ovProduct) id() string {
	if !strings.HasPrefix(p.ID, "pkg:") {
		if purl := p.Identifiers["purl"]; purl != "" {
			return purl
		}
	}
	return p.ID
}

var ovJustifications = []string{
	"component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist",
}

var ovStatuses = []string{StatusNotAffected, StatusAffected, StatusFixed, StatusUnderInvestigation}

func parseOpenVEX(name string, data []byte) ([]pending, error) {
	var doc ovDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("OpenVEX document %s: %w", name, err)
	}
	docTime, err := parseTime(doc.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("OpenVEX document %s: timestamp: %w", name, err)
	}
	out := make([]pending, 0, len(doc.Statements))
	for i, st := range doc.Statements {
		where := fmt.Sprintf("OpenVEX document %s: statement %d", name, i)
		v, err := ovVulnerability(st.Vulnerability)
		if err != nil {
			return nil, fmt.Errorf("%s: vulnerability: %w", where, err)
		}
		stmt := Statement{
			VulnID:        v.Name,
			Status:        strings.ToLower(strings.TrimSpace(st.Status)),
			Justification: strings.TrimSpace(st.Justification),
			Impact:        st.ImpactStatement,
			Action:        st.ActionStatement,
			Source:        fmt.Sprintf("%s#%d", name, i),
			Format:        FormatOpenVEX,
			Timestamp:     docTime,
		}
		if stmt.Impact == "" {
			stmt.Impact = st.StatusNotes
		}
		if stmt.VulnID == "" {
			stmt.VulnID = v.ID
		} else if v.ID != "" {
			stmt.Aliases = append(stmt.Aliases, v.ID)
		}
		for _, a := range v.Aliases {
			if a = strings.TrimSpace(a); a != "" {
				stmt.Aliases = append(stmt.Aliases, a)
			}
		}
		if stmt.VulnID == "" {
			return nil, fmt.Errorf("%s: vulnerability has no name or @id", where)
		}
		if !oneOf(stmt.Status, ovStatuses) {
			return nil, fmt.Errorf("%s (%s): status %q is not an OpenVEX status (%s)", where, stmt.VulnID, st.Status, strings.Join(ovStatuses, ", "))
		}
		if stmt.Justification != "" && !oneOf(stmt.Justification, ovJustifications) {
			return nil, fmt.Errorf("%s (%s): justification %q is not an OpenVEX justification (%s)", where, stmt.VulnID, stmt.Justification, strings.Join(ovJustifications, ", "))
		}
		if stmt.Status == StatusNotAffected && stmt.Justification == "" && strings.TrimSpace(stmt.Impact) == "" {
			return nil, fmt.Errorf("%s (%s): not_affected needs a justification or an impact_statement (OpenVEX spec); add one, or the statement cannot suppress anything", where, stmt.VulnID)
		}
		ts := st.LastUpdated
		if ts == "" {
			ts = st.Timestamp
		}
		if ts != "" {
			t, err := parseTime(ts)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): timestamp: %w", where, stmt.VulnID, err)
			}
			stmt.Timestamp = t
		}
		for j, p := range st.Products {
			id := p.id()
			if id == "" {
				return nil, fmt.Errorf("%s (%s): product %d has neither @id nor identifiers.purl", where, stmt.VulnID, j)
			}
			if len(id) > maxIDLen {
				return nil, fmt.Errorf("%s (%s): product %d: identifier longer than %d bytes", where, stmt.VulnID, j, maxIDLen)
			}
			stmt.Products = append(stmt.Products, id)
			for k, sc := range p.Subcomponents {
				sid := sc.id()
				if sid == "" {
					return nil, fmt.Errorf("%s (%s): product %d: subcomponent %d has neither @id nor identifiers.purl", where, stmt.VulnID, j, k)
				}
				stmt.Subcomponents = append(stmt.Subcomponents, sid)
			}
		}
		out = append(out, pending{Statement: stmt})
	}
	return out, nil
}

func ovVulnerability(raw json.RawMessage) (ovVuln, error) {
	var v ovVuln
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return v, errors.New("missing")
	case raw[0] == '"': // OpenVEX v0.0.x: the id as a string
		err := json.Unmarshal(raw, &v.Name)
		return v, err
	}
	err := json.Unmarshal(raw, &v)
	v.Name, v.ID = strings.TrimSpace(v.Name), strings.TrimSpace(v.ID)
	if len(v.Name) > maxIDLen || len(v.ID) > maxIDLen {
		return v, fmt.Errorf("id longer than %d bytes", maxIDLen)
	}
	return v, err
}

// --- CycloneDX ---

type cdxDoc struct {
	SpecVersion     string          `json:"specVersion"`
	SerialNumber    string          `json:"serialNumber"`
	Metadata        *cdxMetadata    `json:"metadata"`
	Components      []cdxComponent  `json:"components"`
	Vulnerabilities []cdxVulnerable `json:"vulnerabilities"`
}

type cdxMetadata struct {
	Timestamp string        `json:"timestamp"`
	Component *cdxComponent `json:"component"`
}

type cdxComponent struct {
	Type       string         `json:"type"`
	BOMRef     string         `json:"bom-ref"`
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

type cdxVulnerable struct {
	ID         string `json:"id"`
	References []struct {
		ID string `json:"id"`
	} `json:"references"`
	Analysis *struct {
		State         string   `json:"state"`
		Justification string   `json:"justification"`
		Response      []string `json:"response"`
		Detail        string   `json:"detail"`
		FirstIssued   string   `json:"firstIssued"`
		LastUpdated   string   `json:"lastUpdated"`
	} `json:"analysis"`
	Affects []struct {
		Ref      string `json:"ref"`
		Versions []struct {
			Version string `json:"version"`
			Range   string `json:"range"`
			Status  string `json:"status"`
		} `json:"versions"`
	} `json:"affects"`
	Updated string `json:"updated"`
}

var cdxStates = []string{StateResolved, StateResolvedWithPedigree, StateExploitable, StateInTriage, StateFalsePositive, StateNotAffected}

var cdxJustifications = []string{
	"code_not_present", "code_not_reachable", "requires_configuration", "requires_dependency",
	"requires_environment", "protected_by_compiler", "protected_at_runtime", "protected_at_perimeter",
	"protected_by_mitigating_control",
}

func parseCycloneDX(name string, data []byte) ([]pending, error) {
	var doc cdxDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("CycloneDX document %s: %w", name, err)
	}
	switch doc.SpecVersion {
	case "1.4", "1.5", "1.6", "1.7":
	default:
		return nil, fmt.Errorf("CycloneDX document %s: specVersion %q: VEX is read from CycloneDX 1.4 to 1.7", name, doc.SpecVersion)
	}
	// bom-ref → PURL ("" for a component without one); images are the
	// BOM's subject and container components.
	refs := map[string]string{}
	images := map[string]bool{}
	var stack []*cdxComponent
	for i := range doc.Components {
		stack = append(stack, &doc.Components[i])
	}
	var docTime time.Time
	if doc.Metadata != nil {
		t, err := parseTime(doc.Metadata.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("CycloneDX document %s: metadata.timestamp: %w", name, err)
		}
		docTime = t
		if c := doc.Metadata.Component; c != nil {
			stack = append(stack, c)
			if c.BOMRef != "" {
				images[c.BOMRef] = true
			}
		}
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.BOMRef != "" {
			refs[c.BOMRef] = c.PURL
			if c.Type == "container" {
				images[c.BOMRef] = true
			}
		}
		for i := range c.Components {
			stack = append(stack, &c.Components[i])
		}
	}
	var out []pending
	for i, v := range doc.Vulnerabilities {
		if v.Analysis == nil || v.Analysis.State == "" {
			continue // a vulnerability listing, not a VEX statement
		}
		where := fmt.Sprintf("CycloneDX document %s: vulnerabilities[%d]", name, i)
		a := v.Analysis
		stmt := Statement{
			VulnID:        strings.TrimSpace(v.ID),
			Status:        strings.ToLower(strings.TrimSpace(a.State)),
			Justification: strings.TrimSpace(a.Justification),
			Impact:        a.Detail,
			Action:        strings.Join(a.Response, ", "),
			Source:        fmt.Sprintf("%s#%d", name, i),
			Format:        FormatCycloneDX,
			Timestamp:     docTime,
		}
		if stmt.VulnID == "" {
			return nil, fmt.Errorf("%s: no id", where)
		}
		if len(stmt.VulnID) > maxIDLen {
			return nil, fmt.Errorf("%s: id longer than %d bytes", where, maxIDLen)
		}
		for _, r := range v.References {
			if id := strings.TrimSpace(r.ID); id != "" && id != stmt.VulnID {
				stmt.Aliases = append(stmt.Aliases, id)
			}
		}
		if !oneOf(stmt.Status, cdxStates) {
			return nil, fmt.Errorf("%s (%s): analysis.state %q is not a CycloneDX state (%s)", where, stmt.VulnID, a.State, strings.Join(cdxStates, ", "))
		}
		if stmt.Justification != "" && !oneOf(stmt.Justification, cdxJustifications) {
			return nil, fmt.Errorf("%s (%s): analysis.justification %q is not a CycloneDX justification (%s)", where, stmt.VulnID, stmt.Justification, strings.Join(cdxJustifications, ", "))
		}
		for _, ts := range []string{a.LastUpdated, a.FirstIssued, v.Updated} {
			if ts == "" {
				continue
			}
			t, err := parseTime(ts)
			if err != nil {
				return nil, fmt.Errorf("%s (%s): timestamp %q: %w", where, stmt.VulnID, ts, err)
			}
			stmt.Timestamp = t
			break
		}
		for j, af := range v.Affects {
			ref := strings.TrimSpace(af.Ref)
			if ref == "" {
				return nil, fmt.Errorf("%s (%s): affects[%d] has no ref", where, stmt.VulnID, j)
			}
			if len(ref) > maxIDLen {
				return nil, fmt.Errorf("%s (%s): affects[%d]: ref longer than %d bytes", where, stmt.VulnID, j, maxIDLen)
			}
			product := resolveRef(ref, refs)
			versions := 0
			for _, ver := range af.Versions {
				// Versions the entry itself marks affected are not covered
				// by a statement that suppresses, and the other way round;
				// ranges are not evaluated (they cover nothing).
				if ver.Version == "" || (ver.Status == "affected") == stmt.Suppresses() {
					continue
				}
				if k, ok := parsePURL(product); ok && k.version == "" {
					versions++
					stmt.Products = append(stmt.Products, withVersion(product, ver.Version))
				}
			}
			if versions == 0 && len(af.Versions) == 0 {
				stmt.Products = append(stmt.Products, product)
			}
		}
		if len(v.Affects) > 0 && len(stmt.Products) == 0 {
			// Every version entry was a range or excluded: cover nothing
			// rather than everything.
			stmt.Products = []string{"urn:bulkhead:none"}
		}
		out = append(out, pending{Statement: stmt, image: func(s string) bool { return images[s] }})
	}
	return out, nil
}

// resolveRef turns an affects ref into a product identifier: the PURL of
// the component it names in this document, the PURL a BOM-Link's fragment
// or the ref itself is, or else the ref as written.
func resolveRef(ref string, refs map[string]string) string {
	if p, ok := refs[ref]; ok {
		if p != "" {
			return p
		}
		return ref
	}
	if strings.HasPrefix(ref, "urn:cdx:") {
		if _, frag, ok := strings.Cut(ref, "#"); ok {
			if f, err := url.PathUnescape(frag); err == nil {
				frag = f
			}
			if p, ok := refs[frag]; ok && p != "" {
				return p
			}
			return frag
		}
	}
	return ref
}

// withVersion sets the version of a PURL that has none.
func withVersion(purl, version string) string {
	base, rest := purl, ""
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		base, rest = purl[:i], purl[i:]
	}
	return base + "@" + url.PathEscape(version) + rest
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t, nil
}

func oneOf(s string, list []string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}
