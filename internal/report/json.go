package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/policy"
)

// SchemaVersion is the version of bulkhead's JSON inventory. Bump it when a
// change would make an older reader misread a newer file: a renamed or
// retyped field, a changed meaning. Added optional fields need no bump.
const SchemaVersion = 1

// jsonDocument is bulkhead's JSON inventory: the inventory's fields after a
// schemaVersion. It spells them out rather than embedding the Inventory
// because of one difference: vulnerabilities and secrets are written as []
// when their scanner ran and found nothing, and left out when it did not
// run (omitzero omits a nil slice only). TestJSONDocumentCoversInventory
// fails when Inventory gains a field this document does not carry.
type jsonDocument struct {
	SchemaVersion   int                       `json:"schemaVersion"`
	Artifact        inventory.Artifact        `json:"artifact"`
	OS              *inventory.OS             `json:"os,omitempty"`
	Packages        []inventory.Package       `json:"packages"`
	Vulnerabilities []inventory.Vulnerability `json:"vulnerabilities,omitzero"`
	Secrets         []inventory.Secret        `json:"secrets,omitzero"`
	Malware         []inventory.Malware       `json:"malware,omitzero"`
	// Misconfigurations: the same rule as vulnerabilities and secrets.
	Misconfigurations []misconfig.Finding `json:"misconfigurations,omitzero"`
	Warnings          []inventory.Warning `json:"warnings,omitempty"`
	// Verdict is the policy's verdict, when one was evaluated. Readers of
	// schema version 1 that do not know it ignore it.
	Verdict *policy.Verdict `json:"verdict,omitempty"`
}

func writeJSON(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	doc := jsonDocument{
		SchemaVersion: SchemaVersion,
		Verdict:       opts.Verdict,
		Artifact:      inv.Artifact,
		OS:            inv.OS,
		Packages:      make([]inventory.Package, 0, len(inv.Packages)),
		Warnings:      inv.Warnings,
	}
	for _, p := range sortedPackages(inv.Packages) {
		doc.Packages = append(doc.Packages, *p)
	}
	if inv.Vulnerabilities != nil {
		doc.Vulnerabilities = make([]inventory.Vulnerability, 0, len(inv.Vulnerabilities))
		for _, v := range sortedVulns(inv.Vulnerabilities) {
			doc.Vulnerabilities = append(doc.Vulnerabilities, *v)
		}
	}
	if inv.Secrets != nil {
		doc.Secrets = make([]inventory.Secret, 0, len(inv.Secrets))
		for _, s := range sortedSecrets(inv.Secrets) {
			doc.Secrets = append(doc.Secrets, *s)
		}
	}
	if inv.Malware != nil {
		doc.Malware = append(make([]inventory.Malware, 0, len(inv.Malware)), inv.Malware...)
	}
	if inv.Misconfigurations != nil {
		doc.Misconfigurations = append(make([]misconfig.Finding, 0, len(inv.Misconfigurations)), inv.Misconfigurations...)
		sortMisconfigs(doc.Misconfigurations)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(&doc)
}

// sortMisconfigs orders findings by severity (worst first), path, line,
// then id.
func sortMisconfigs(ms []misconfig.Finding) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := &ms[i], &ms[j]
		if ra, rb := inventory.SeverityRank(a.Severity), inventory.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
}

// ErrSchemaVersion is returned, wrapped, by ReadJSON for a file without a
// schema version or written by a newer bulkhead.
var ErrSchemaVersion = errors.New("unsupported inventory schema version")

// ReadJSON reads an inventory written in the json format, for --baseline
// and later stages. Vulnerabilities and Secrets come back nil when the
// file says their scanner did not run, empty when it found nothing.
func ReadJSON(r io.Reader) (*inventory.Inventory, error) {
	var doc jsonDocument
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read inventory json: %w", err)
	}
	if doc.SchemaVersion < 1 || doc.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("read inventory json: %w %d (this bulkhead reads 1 to %d)",
			ErrSchemaVersion, doc.SchemaVersion, SchemaVersion)
	}
	return &inventory.Inventory{
		Artifact:          doc.Artifact,
		OS:                doc.OS,
		Packages:          doc.Packages,
		Vulnerabilities:   doc.Vulnerabilities,
		Secrets:           doc.Secrets,
		Malware:           doc.Malware,
		Misconfigurations: doc.Misconfigurations,
		Warnings:          doc.Warnings,
	}, nil
}
