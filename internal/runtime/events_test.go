package runtime

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

func TestEvents(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	snap := &Snapshot{Host: "h1", Time: now, Containers: []Container{
		{ID: "aaaaaaaaaaaaaaaa", Name: "web", Runtime: "docker"},
		{ID: "bbbbbbbbbbbbbbbb", Name: "stray", Runtime: "runc", Unmanaged: true, PIDs: []int{42}},
	}}
	ch := Changes{
		Added:   []ContainerRef{{ID: "aaaaaaaaaaaaaaaa", Name: "web", Runtime: "docker"}},
		Removed: []ContainerRef{{ID: "cccccccccccccccc", Name: "old", Runtime: "docker"}},
		Changed: []ContainerChange{
			{ContainerRef: ContainerRef{ID: "dddddddddddddddd", Name: "db"}, Fields: []FieldChange{{Field: "image", Before: "pg:15", After: "pg:16"}}},
			{ContainerRef: ContainerRef{ID: "eeeeeeeeeeeeeeee", Name: "app"}, Fields: []FieldChange{{Field: "security.privileged", Before: "false", After: "true", Privilege: true}}},
		},
	}
	type row struct {
		Kind, Msg string
		Sev       siem.Severity
	}
	var got []row
	for _, e := range Events(snap, ch) {
		if e.Host != "h1" || !e.Time.Equal(now) || e.Data["id"] == nil {
			t.Errorf("event %+v", e)
		}
		got = append(got, row{e.Kind, e.Message, e.Severity})
	}
	want := []row{
		{siem.KindUnmanagedContainer, "unmanaged runc container stray (bbbbbbbbbbbb) (PIDs [42]) is not known to any container API", siem.Warning},
		{siem.KindContainerAdded, "container added: web (aaaaaaaaaaaa)", siem.Notice},
		{siem.KindContainerRemoved, "container removed: old (cccccccccccc)", siem.Notice},
		{siem.KindContainerChanged, "container changed: db (dddddddddddd) (image)", siem.Notice},
		{siem.KindContainerChanged, "container changed: app (eeeeeeeeeeee) (security.privileged)", siem.Warning},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A container's command is masked when it is read, so no snapshot, diff or
// event carries a token.
func TestCommandMasked(t *testing.T) {
	c := containerOf(container.Summary{ID: "abc", Command: "sh -c 'sleep 1 --api-token=OLDtok111'"}, &container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{Path: "app", Args: []string{"--password", "hunter2", "--db=postgres://u:pw9@db/x"}}})
	for _, s := range []string{"hunter2", "pw9"} {
		if strings.Contains(strings.Join(c.Command, " "), s) {
			t.Errorf("%s in command %q", s, c.Command)
		}
	}
	c = containerOf(container.Summary{ID: "abc", Command: "sh -c 'sleep 1 --api-token=OLDtok111'"}, nil)
	if got := strings.Join(c.Command, " "); strings.Contains(got, "OLDtok111") {
		t.Errorf("command %q", got)
	}
}

func TestBaseline(t *testing.T) {
	full1 := &Snapshot{Host: "h", Docker: &Engine{}, Proc: &ProcStats{}}
	procOnly := &Snapshot{Host: "h", Proc: &ProcStats{}}
	cur := &Snapshot{Host: "h", Docker: &Engine{}, Proc: &ProcStats{}}
	if got := Baseline([]*Snapshot{procOnly, full1}, cur); got != full1 {
		t.Error("a full run is compared with a /proc-only one")
	}
	if got := Baseline([]*Snapshot{procOnly}, cur); got != procOnly {
		t.Error("with nothing better, the newest")
	}
	if got := Baseline([]*Snapshot{procOnly, full1}, procOnly); got != procOnly {
		t.Error("a /proc-only run is compared with the newest")
	}
	if Baseline(nil, cur) != nil {
		t.Error("no snapshot, no baseline")
	}
}
