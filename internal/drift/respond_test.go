package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCandidates(t *testing.T) {
	a, b := ContainerRef{Name: "a", ID: "aaa"}, ContainerRef{Name: "b", ID: "bbb"}
	rep := &Report{Findings: []Finding{
		{Container: a, Path: "/tmp/x", Kind: KindExecNotInImage, Severity: "HIGH"},
		{Container: a, Path: "/etc/passwd", Kind: KindModified, Severity: "MEDIUM"},
		{Container: b, Path: "/var/lib/dpkg/status", Kind: KindPackageInstalled, Severity: "LOW"},
	}}
	type row struct {
		ID      string
		Reasons []string
	}
	for _, tt := range []struct {
		triggers []string
		want     []row
	}{
		{[]string{"exec-not-in-image"}, []row{{"aaa", []string{"drift: exec-not-in-image /tmp/x"}}}},
		{[]string{"MEDIUM"}, []row{{"aaa", []string{"drift: exec-not-in-image /tmp/x", "drift: modified /etc/passwd"}}}},
		{[]string{"ANY"}, []row{{"aaa", []string{"drift: exec-not-in-image /tmp/x", "drift: modified /etc/passwd"}}, {"bbb", []string{"drift: package-installed /var/lib/dpkg/status"}}}},
		{[]string{"added-library"}, nil},
	} {
		var got []row
		for _, c := range rep.Candidates(tt.triggers) {
			got = append(got, row{c.ID, c.Reasons})
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.triggers, diff)
		}
	}
	for s, want := range map[string]bool{"exec-not-in-image": true, "HIGH": true, "low": true, "any": true, "nonsense": false, "": false} {
		if ValidTrigger(s) != want {
			t.Errorf("ValidTrigger(%q) = %v", s, !want)
		}
	}
}
