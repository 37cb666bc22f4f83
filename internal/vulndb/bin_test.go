package vulndb

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// binFields are the fields of osv.Vulnerability that encodeBin stores.
var binFields = []string{
	"SchemaVersion", "ID", "Modified", "Published", "Withdrawn", "Aliases", "Upstream", "Related",
	"Summary", "Details", "Severity", "Severity.Type", "Severity.Score",
	"Affected", "Affected.Package", "Affected.Package.Ecosystem", "Affected.Package.Name", "Affected.Package.PURL",
	"Affected.Severity", "Affected.Severity.Type", "Affected.Severity.Score",
	"Affected.Ranges", "Affected.Ranges.Type", "Affected.Ranges.Repo", "Affected.Ranges.Events",
	"Affected.Ranges.Events.Introduced", "Affected.Ranges.Events.Fixed", "Affected.Ranges.Events.LastAffected",
	"Affected.Ranges.Events.Limit", "Affected.Ranges.DatabaseSpecific",
	"Affected.Versions", "Affected.EcosystemSpecific", "Affected.DatabaseSpecific",
	"References", "References.Type", "References.URL", "DatabaseSpecific",
}

// fieldPaths lists the exported fields of t, recursing into the structs of
// the osv package.
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		p := prefix + f.Name
		out = append(out, p)
		ft := f.Type
		for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == reflect.TypeFor[osv.Vulnerability]().PkgPath() {
			out = append(out, fieldPaths(ft, p+".")...)
		}
	}
	return out
}

// TestBinCoversVulnerability fails when osv.Vulnerability changes shape:
// lookups would silently drop the new field.
func TestBinCoversVulnerability(t *testing.T) {
	if diff := cmp.Diff(binFields, fieldPaths(reflect.TypeFor[osv.Vulnerability](), "")); diff != "" {
		t.Errorf("osv.Vulnerability changed (-stored by bin.go +in the type): teach encodeBin/decodeBin "+
			"the new fields, then bump binVersion and SchemaVersion:\n%s", diff)
	}
}

func TestBinRoundTrip(t *testing.T) {
	pub := time.Date(2024, 2, 3, 4, 5, 6, 789, time.UTC)
	zero := time.Time{}
	full := &osv.Vulnerability{
		SchemaVersion: "1.6.0", ID: "X-1", Modified: time.Date(2024, 5, 6, 7, 8, 9, 1, time.UTC),
		Published: &pub, Withdrawn: &zero,
		Aliases: []string{"CVE-1", ""}, Upstream: []string{}, Related: nil,
		Summary: "s", Details: "d\x00é",
		Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N"}},
		Affected: []osv.Affected{{
			Package:  osv.Package{Ecosystem: "Debian:12", Name: "openssl", PURL: "pkg:deb/debian/openssl"},
			Severity: []osv.Severity{},
			Ranges: []osv.Range{{Type: "GIT", Repo: "r", Events: []osv.Event{{Introduced: "0"}, {Fixed: "1"}, {LastAffected: "2"}, {Limit: "3"}},
				DatabaseSpecific: json.RawMessage(`{"a":1}`)}},
			Versions:          []string{"1", "2"},
			EcosystemSpecific: json.RawMessage(`null`),
			DatabaseSpecific:  json.RawMessage(``),
		}, {}},
		References:       []osv.Reference{{Type: "WEB", URL: "https://example.com"}},
		DatabaseSpecific: json.RawMessage(`{"source":"x"}`),
	}
	for name, v := range map[string]*osv.Vulnerability{"empty": {}, "full": full, "modified zero": {ID: "Z", Modified: zero}} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeBin(encodeBin(nil, v))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(v, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	// Truncations of a valid encoding all fail cleanly.
	b := encodeBin(nil, full)
	for i := range len(b) {
		if _, err := decodeBin(b[:i]); err == nil {
			t.Errorf("decodeBin of %d of %d bytes succeeded", i, len(b))
		}
	}
}
