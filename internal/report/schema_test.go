package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Every CycloneDX BOM bulkhead writes is valid CycloneDX 1.6, formats
// (date-time, iri-reference...) included. The schemas are in
// testdata/schema, registered under their canonical URLs so that nothing
// is fetched.
func TestCycloneDXSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for file, url := range map[string]string{
		"bom-1.6.schema.json":  "http://cyclonedx.org/schema/bom-1.6.schema.json",
		"spdx.schema.json":     "http://cyclonedx.org/schema/spdx.schema.json",
		"jsf-0.82.schema.json": "http://cyclonedx.org/schema/jsf-0.82.schema.json",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "schema", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string]*inventory.Inventory{"hostile": hostileFindings(), "many findings": bigFindings(500)}
	for _, tc := range goldenCases {
		cases[tc.name] = tc.inv()
	}
	for name, inv := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(write(t, FormatCycloneDXJSON, inv)))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Error(err)
			}
		})
	}
}

// SARIFSchemaURL is the id of the SARIF 2.1.0 schema in testdata.
const sarifSchemaURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// Every SARIF log bulkhead writes is valid SARIF 2.1.0 (formats
// included), the format GitHub code scanning accepts.
func TestSARIFSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	data, err := os.ReadFile(filepath.Join("testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(sarifSchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(sarifSchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]*inventory.Inventory{"hostile": hostileFindings(), "many findings": bigFindings(500)}
	for _, tc := range goldenCases {
		cases[tc.name] = tc.inv()
	}
	for name, inv := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(write(t, FormatSARIF, inv)))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Error(err)
			}
		})
	}
	// The validator does reject an invalid log.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`))
	if err := schema.Validate(bad); err == nil {
		t.Error("a run whose driver has no name validates")
	}
}
