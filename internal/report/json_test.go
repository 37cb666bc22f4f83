package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			data := write(t, FormatJSON, tc.inv())
			if !bytes.HasPrefix(data, []byte("{\n  \"schemaVersion\": 1,\n  \"artifact\": {")) {
				t.Errorf("document does not start with schemaVersion then artifact:\n%.80s", data)
			}
			got, err := ReadJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sortedInventory(tc.inv()), got); diff != "" {
				t.Errorf("inventory after round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadJSONSchemaVersion(t *testing.T) {
	for _, in := range []string{
		`{"artifact": {"ref": "x"}, "packages": []}`,
		`{"schemaVersion": 0, "packages": []}`,
		`{"schemaVersion": 2, "packages": []}`,
	} {
		if _, err := ReadJSON(strings.NewReader(in)); !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("ReadJSON(%s) error = %v, want ErrSchemaVersion", in, err)
		}
	}
	if _, err := ReadJSON(strings.NewReader(`{"schemaVersion": 1,`)); err == nil || errors.Is(err, ErrSchemaVersion) {
		t.Errorf("ReadJSON(truncated) error = %v, want a decode error", err)
	}
}

// sortedInventory is inv as the json format writes it: packages, findings
// and secrets in the report's order, packages never nil.
func sortedInventory(inv *inventory.Inventory) *inventory.Inventory {
	inventory.SortPackages(inv.Packages)
	if inv.Packages == nil {
		inv.Packages = []inventory.Package{}
	}
	slices.SortStableFunc(inv.Vulnerabilities, func(a, b inventory.Vulnerability) int { return compareVulns(&a, &b) })
	slices.SortStableFunc(inv.Secrets, func(a, b inventory.Secret) int { return compareSecrets(&a, &b) })
	sortMisconfigs(inv.Misconfigurations)
	return inv
}

// A scanner that ran and found nothing writes [], one that did not run
// writes nothing, and ReadJSON tells the two apart.
func TestJSONFindingsNotRunVersusNone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inv    *inventory.Inventory
		wantIn string
		ran    bool
	}{
		{"not run", debianImage(), "", false},
		{"ran, found nothing", cleanImage(), "\"vulnerabilities\": [],\n  \"secrets\": []", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := write(t, FormatJSON, tc.inv)
			for _, key := range []string{`"vulnerabilities"`, `"secrets"`} {
				if got := bytes.Contains(data, []byte(key)); got != tc.ran {
					t.Errorf("document has %s: %v, want %v", key, got, tc.ran)
				}
			}
			if tc.wantIn != "" && !bytes.Contains(data, []byte(tc.wantIn)) {
				t.Errorf("document lacks %s:\n%s", tc.wantIn, data)
			}
			got, err := ReadJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if (got.Vulnerabilities != nil) != tc.ran || len(got.Vulnerabilities) != 0 {
				t.Errorf("Vulnerabilities = %#v after round trip, want ran=%v and empty", got.Vulnerabilities, tc.ran)
			}
			if (got.Secrets != nil) != tc.ran || len(got.Secrets) != 0 {
				t.Errorf("Secrets = %#v after round trip, want ran=%v and empty", got.Secrets, tc.ran)
			}
		})
	}
}

// The document's top level and each vulnerability carry the fields
// consumers read.
func TestJSONShape(t *testing.T) {
	var doc struct {
		Top             map[string]json.RawMessage
		Vulnerabilities []map[string]json.RawMessage `json:"vulnerabilities"`
	}
	data := write(t, FormatJSON, vulnerableImage())
	if err := json.Unmarshal(data, &doc.Top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schemaVersion", "artifact", "os", "packages", "vulnerabilities", "secrets", "warnings"} {
		if _, ok := doc.Top[k]; !ok {
			t.Errorf("top level lacks %q", k)
		}
	}
	// CVE-2024-5535 has every field set.
	i := slices.IndexFunc(doc.Vulnerabilities, func(v map[string]json.RawMessage) bool {
		return string(v["id"]) == `"CVE-2024-5535"`
	})
	if i < 0 {
		t.Fatal("CVE-2024-5535 missing")
	}
	v := doc.Vulnerabilities[i]
	for _, k := range []string{"id", "aliases", "advisories", "severity", "severitySource", "cvss", "fixedVersion", "status",
		"matchedRange", "title", "description", "references", "published", "modified", "package", "location"} {
		if _, ok := v[k]; !ok {
			t.Errorf("vulnerability lacks %q", k)
		}
	}
	var pkg struct {
		Name, Version, Type, Ecosystem, PURL string
		Source                               *struct{ Name, Version string }
	}
	var loc map[string]json.RawMessage
	if err := json.Unmarshal(v["package"], &pkg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v["location"], &loc); err != nil {
		t.Fatal(err)
	}
	if pkg.Name != "libssl3" || pkg.Ecosystem != "Debian:12" || pkg.PURL == "" || pkg.Source == nil || pkg.Source.Name != "openssl" {
		t.Errorf("package = %+v", pkg)
	}
	for _, k := range []string{"path", "layerDiffID", "layerIndex", "createdBy"} {
		if _, ok := loc[k]; !ok {
			t.Errorf("location lacks %q", k)
		}
	}
}

// The json document spells out the inventory's fields (see jsonDocument):
// a field added to Inventory must be added there too, with the same name.
func TestJSONDocumentCoversInventory(t *testing.T) {
	names := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			out = append(out, name)
		}
		return out
	}
	doc := names(reflect.TypeFor[jsonDocument]())
	for _, n := range names(reflect.TypeFor[inventory.Inventory]()) {
		if !slices.Contains(doc, n) {
			t.Errorf("inventory field %q is not in jsonDocument", n)
		}
	}
}
