package runtime

import (
	"slices"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	api := func(id, name string, mod ...func(*Container)) Container {
		c := Container{ID: id, Name: name, Runtime: RuntimeDocker, Sources: []string{SourceAPI, SourceProc}, Image: "demo:1", State: "running",
			Security: &Security{NetworkMode: "bridge"}}
		for _, m := range mod {
			m(&c)
		}
		return c
	}
	procOnly := func(id string) Container {
		return Container{ID: id, Name: id, Runtime: RuntimeRunc, Sources: []string{SourceProc}, Unmanaged: true, State: "running"}
	}
	snapOf := func(at time.Duration, docker, proc bool, cs ...Container) *Snapshot {
		s := &Snapshot{Host: "h", Time: t0.Add(at), Containers: cs}
		if docker {
			s.Docker = &Engine{Host: "unix:///x"}
		}
		if proc {
			s.Proc = &ProcStats{Root: "/proc"}
		}
		return s
	}
	type want struct {
		added, removed, changed []string // ids
		fields                  []string // fields of the first change
		notes                   int
	}
	cases := []struct {
		name      string
		prev, cur *Snapshot
		want      want
	}{
		{"first snapshot", nil, snapOf(0, true, true, api(idA, "web")), want{}},
		{"nothing changed; PIDs and rootfs do not count", snapOf(0, true, true, api(idA, "web", func(c *Container) { c.PIDs = []int{1} })),
			snapOf(time.Minute, true, true, api(idA, "web", func(c *Container) { c.PIDs = []int{2}; c.RootFS = &RootFS{FSType: "overlay"} })), want{}},
		{"added and removed", snapOf(0, true, true, api(idA, "web")), snapOf(time.Minute, true, true, api(idB, "db"), procOnly("stray")),
			want{added: []string{idB, "stray"}, removed: []string{idA}}},
		{"recreated under the same name", snapOf(0, true, true, api(idA, "web")),
			snapOf(time.Minute, true, true, api(idB, "web", func(c *Container) { c.Image = "demo:2" })),
			want{changed: []string{idB}, fields: []string{"id", "image"}}},
		{"privileges", snapOf(0, true, true, api(idA, "web")),
			snapOf(time.Minute, true, true, api(idA, "web", func(c *Container) {
				c.Security = &Security{NetworkMode: "host", Privileged: true, CapAdd: []string{"CAP_SYS_ADMIN"}}
				c.Mounts = []Mount{{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true}}
				c.User = "root"
			})),
			want{changed: []string{idA}, fields: []string{"user", "mounts", "security.privileged", "security.capAdd", "security.networkMode"}}},
		{"stopped", snapOf(0, true, true, api(idA, "web")), snapOf(time.Minute, true, true, api(idA, "web", func(c *Container) { c.State = "exited" })),
			want{changed: []string{idA}, fields: []string{"state"}}},
		{"API down this time: nothing removed, proc view not a change",
			snapOf(0, true, true, api(idA, "web"), api(idB, "db", func(c *Container) { c.Sources = []string{SourceAPI} }), procOnly("stray")),
			snapOf(time.Minute, false, true, Container{ID: idA, Name: idA, Runtime: RuntimeDocker, Sources: []string{SourceProc}, State: "running"}),
			want{removed: []string{"stray"}, notes: 1}},
		{"API back: its containers not added", snapOf(0, false, true, procOnly("stray")),
			snapOf(time.Minute, true, true, api(idA, "web"), procOnly("stray")), want{notes: 1}},
		{"/proc unreadable this time", snapOf(0, true, true, api(idA, "web"), procOnly("stray")),
			snapOf(time.Minute, true, false, api(idA, "web")), want{notes: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := Diff(tc.prev, tc.cur)
			ids := func(r []ContainerRef) []string {
				var out []string
				for _, x := range r {
					out = append(out, x.ID)
				}
				return out
			}
			var changed []string
			for _, c := range ch.Changed {
				changed = append(changed, c.ID)
			}
			if !slices.Equal(ids(ch.Added), tc.want.added) || !slices.Equal(ids(ch.Removed), tc.want.removed) || !slices.Equal(changed, tc.want.changed) {
				t.Fatalf("added %v removed %v changed %v; want %v %v %v", ids(ch.Added), ids(ch.Removed), changed, tc.want.added, tc.want.removed, tc.want.changed)
			}
			if len(ch.Notes) != tc.want.notes {
				t.Errorf("notes = %q", ch.Notes)
			}
			if len(ch.Changed) > 0 {
				var fields []string
				for _, f := range ch.Changed[0].Fields {
					fields = append(fields, f.Field)
				}
				// "id" only appears for recreated containers.
				if ch.Changed[0].PreviousID == "" {
					fields = slices.DeleteFunc(fields, func(s string) bool { return s == "id" })
					tc.want.fields = slices.DeleteFunc(tc.want.fields, func(s string) bool { return s == "id" })
				}
				if !slices.Equal(fields, tc.want.fields) {
					t.Errorf("fields = %v, want %v", fields, tc.want.fields)
				}
			}
			if tc.prev == nil {
				if ch.Added == nil || ch.Removed == nil || ch.Changed == nil || !ch.Since.IsZero() {
					t.Errorf("first snapshot: %+v (lists must be empty, not null)", ch)
				}
			}
		})
	}
}
