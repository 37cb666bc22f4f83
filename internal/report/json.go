package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// SchemaVersion is the version of bulkhead's JSON inventory. Bump it when a
// change would make an older reader misread a newer file: a renamed or
// retyped field, a changed meaning. Added optional fields need no bump.
const SchemaVersion = 1

// jsonDocument is bulkhead's JSON inventory: the inventory's own fields
// after a schemaVersion, in struct order.
type jsonDocument struct {
	SchemaVersion int `json:"schemaVersion"`
	*inventory.Inventory
}

func writeJSON(w io.Writer, inv *inventory.Inventory, _ *Options) error {
	out := *inv
	out.Packages = make([]inventory.Package, 0, len(inv.Packages))
	for _, p := range sortedPackages(inv.Packages) {
		out.Packages = append(out.Packages, *p)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonDocument{SchemaVersion: SchemaVersion, Inventory: &out})
}

// ErrSchemaVersion is returned, wrapped, by ReadJSON for a file without a
// schema version or written by a newer bulkhead.
var ErrSchemaVersion = errors.New("unsupported inventory schema version")

// ReadJSON reads an inventory written in the json format, for --baseline
// and later stages.
func ReadJSON(r io.Reader) (*inventory.Inventory, error) {
	doc := jsonDocument{Inventory: new(inventory.Inventory)}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read inventory json: %w", err)
	}
	if doc.SchemaVersion < 1 || doc.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("read inventory json: %w %d (this bulkhead reads 1 to %d)",
			ErrSchemaVersion, doc.SchemaVersion, SchemaVersion)
	}
	return doc.Inventory, nil
}
