package match

import (
	"bytes"
	"encoding/json"
	"strings"

	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// Severity sources, most authoritative first.
const (
	sourceCVSSv3   = "cvss_v3"
	sourceCVSSv4   = "cvss_v4"
	sourceDatabase = "database_specific"
	sourceDistro   = "distro"
)

// scored is the severity one advisory gives a package.
type scored struct {
	severity string
	source   string
	cvss     []inventory.CVSS
}

// severityOf derives a severity from an advisory and the affected entry
// that matched: CVSS v3.x vectors (the score every scanner reports), else
// CVSS v4, else the record's database_specific severity, else the
// distro's own rating (Ubuntu priorities, Debian urgency when it says).
func severityOf(v *osv.Vulnerability, a *osv.Affected) scored {
	var s scored
	all := append(append([]osv.Severity{}, a.Severity...), v.Severity...)
	var v3, v4 *inventory.CVSS
	for _, sev := range all {
		c, ok := parseCVSS(sev)
		if !ok {
			continue
		}
		c.Source = v.ID
		s.cvss = append(s.cvss, c)
		cc := c
		switch {
		case strings.HasPrefix(c.Version, "3") && (v3 == nil || cc.Score > v3.Score):
			v3 = &cc
		case c.Version == "4.0" && (v4 == nil || cc.Score > v4.Score):
			v4 = &cc
		}
	}
	switch {
	case v3 != nil:
		s.severity, s.source = rating(v3.Score), sourceCVSSv3
		return s
	case v4 != nil:
		s.severity, s.source = rating(v4.Score), sourceCVSSv4
		return s
	}
	for _, raw := range []json.RawMessage{a.DatabaseSpecific, v.DatabaseSpecific, a.EcosystemSpecific} {
		if sev := severityField(raw); sev != "" {
			s.severity, s.source = sev, sourceDatabase
			return s
		}
	}
	for _, sev := range all {
		if strings.EqualFold(sev.Type, "Ubuntu") {
			if r := distroRating(sev.Score); r != "" {
				s.severity, s.source = r, sourceDistro
				return s
			}
		}
	}
	s.severity = inventory.SeverityUnknown
	return s
}

func parseCVSS(sev osv.Severity) (inventory.CVSS, bool) {
	vec := strings.TrimSpace(sev.Score)
	switch {
	case strings.HasPrefix(vec, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(vec)
		if err != nil {
			return inventory.CVSS{}, false
		}
		return inventory.CVSS{Version: "3.1", Vector: vec, Score: c.BaseScore()}, true
	case strings.HasPrefix(vec, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(vec)
		if err != nil {
			return inventory.CVSS{}, false
		}
		return inventory.CVSS{Version: "3.0", Vector: vec, Score: c.BaseScore()}, true
	case strings.HasPrefix(vec, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(vec)
		if err != nil {
			return inventory.CVSS{}, false
		}
		return inventory.CVSS{Version: "4.0", Vector: vec, Score: c.Score()}, true
	}
	return inventory.CVSS{}, false
}

// rating is the CVSS qualitative scale (the same for v3 and v4).
func rating(score float64) string {
	switch {
	case score >= 9.0:
		return inventory.SeverityCritical
	case score >= 7.0:
		return inventory.SeverityHigh
	case score >= 4.0:
		return inventory.SeverityMedium
	case score > 0:
		return inventory.SeverityLow
	}
	return inventory.SeverityUnknown
}

func severityField(raw json.RawMessage) string {
	if len(raw) == 0 || !bytes.Contains(raw, []byte("severity")) {
		return ""
	}
	var m struct {
		Severity     any `json:"severity"`
		CVSSSeverity any `json:"cvss_severity"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, v := range []any{m.Severity, m.CVSSSeverity} {
		if s, ok := v.(string); ok {
			if r := distroRating(s); r != "" {
				return r
			}
		}
	}
	return ""
}

// distroRating maps words distros and GHSA use onto our scale.
func distroRating(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return inventory.SeverityCritical
	case "high", "important":
		return inventory.SeverityHigh
	case "medium", "moderate":
		return inventory.SeverityMedium
	case "low", "negligible", "unimportant":
		return inventory.SeverityLow
	}
	return ""
}
