package osrelease

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		path, content string
		want          *inventory.OS
	}{
		{"/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
			&inventory.OS{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)"}},
		{"/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
			&inventory.OS{ID: "alpine", VersionID: "3.20.3", Name: "Alpine Linux v3.20"}},
		{"/etc/os-release", "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
			&inventory.OS{ID: "rocky", VersionID: "9.4", Name: "Rocky Linux 9.4 (Blue Onyx)", IDLike: []string{"rhel", "centos", "fedora"}}},
		{"/etc/os-release", "# comment\nID='wolfi'\nNAME=Wolfi\n", &inventory.OS{ID: "wolfi", Name: "Wolfi"}},
		{"/etc/os-release", "NAME=nothing\n", nil},
		{"/etc/alpine-release", "3.11.6\n", &inventory.OS{ID: "alpine", VersionID: "3.11.6", Name: "Alpine Linux v3.11.6"}},
		{"/etc/redhat-release", "CentOS release 6.10 (Final)\n", &inventory.OS{ID: "centos", VersionID: "6.10", Name: "CentOS release 6.10 (Final)"}},
	}
	a := New()
	for _, tt := range tests {
		res, err := a.Analyze(context.Background(), analyzer.Input{Path: tt.path, Content: bytes.NewReader([]byte(tt.content))})
		if err != nil {
			t.Fatal(err)
		}
		var got *inventory.OS
		if res != nil {
			got = res.OS
			got.Location = inventory.Location{}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %q (-want +got):\n%s", tt.path, tt.content, diff)
		}
	}
}

func TestPick(t *testing.T) {
	deb := &inventory.OS{ID: "debian", VersionID: "12"}
	old := &inventory.OS{ID: "debian", VersionID: "12.5"}
	if got := Pick(map[string]*inventory.OS{"/etc/debian_version": old, "/usr/lib/os-release": deb}); got != deb {
		t.Errorf("Pick = %+v, want os-release to win", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ID=debian\nVERSION_ID=\"12\"\n")
	f.Add("ID=\"\\\"x\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		if o := Parse(s); o != nil && o.ID == "" {
			t.Fatal("OS without ID")
		}
	})
}
