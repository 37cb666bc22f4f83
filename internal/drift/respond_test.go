package drift

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/siem"
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

func TestEvents(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	rep := &Report{Host: "h1", Time: now, Findings: []Finding{
		{Container: ContainerRef{Name: "a", ID: "aaa"}, Image: "img:1", Path: "/tmp/x", Kind: KindExecNotInImage, Severity: "HIGH"},
		{Container: ContainerRef{Name: "a", ID: "aaa"}, Image: "img:1", Path: "/var/lib/dpkg/status", Kind: KindPackageInstalled, Severity: "LOW"},
	}}
	evs := Events(rep)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if e := evs[0]; e.Host != "h1" || !e.Time.Equal(now) || e.Kind != siem.KindDriftFinding || e.Severity != siem.Error || e.Message != "drift exec-not-in-image /tmp/x in container a (img:1)" ||
		e.Data["kind"] != "exec-not-in-image" || e.Data["path"] != "/tmp/x" {
		t.Errorf("event %+v", e)
	}
	if evs[1].Severity != siem.Notice {
		t.Errorf("LOW finding at %v", evs[1].Severity)
	}
	var buf bytes.Buffer
	if err := Write(&buf, "syslog", rep); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "<107>1 ") || !strings.Contains(lines[0], "drift-finding") {
		t.Errorf("syslog output:\n%s", buf.String())
	}
}
