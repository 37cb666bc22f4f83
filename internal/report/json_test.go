package report

import (
	"bytes"
	"errors"
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
			want := tc.inv()
			inventory.SortPackages(want.Packages)
			if want.Packages == nil {
				want.Packages = []inventory.Package{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
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
