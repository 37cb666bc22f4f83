package runtime

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Changes is what differs between two snapshots of a host's containers.
type Changes struct {
	// Since is the time of the earlier snapshot; zero when there was none
	// (the first inventory of a host reports nothing as added).
	Since time.Time `json:"since,omitzero"`
	// Added are containers present now and not before.
	Added []ContainerRef `json:"added"`
	// Removed are containers present before and gone now.
	Removed []ContainerRef `json:"removed"`
	// Changed are containers present in both (same id, or same name and
	// runtime when recreated under a new id) whose configuration differs.
	Changed []ContainerChange `json:"changed"`
	// Notes say what could not be compared: when a source (the Docker
	// API, /proc) was read in one snapshot and not the other, its
	// containers are neither added nor removed.
	Notes []string `json:"notes,omitempty"`
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return len(c.Added)+len(c.Removed)+len(c.Changed) == 0 }

// ContainerRef names a container in a change list.
type ContainerRef struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Runtime   string `json:"runtime"`
	Image     string `json:"image,omitempty"`
	State     string `json:"state,omitempty"`
	Unmanaged bool   `json:"unmanaged"`
}

// ContainerChange is one container whose configuration changed.
type ContainerChange struct {
	ContainerRef
	// PreviousID is the old id of a container recreated under the same name.
	PreviousID string        `json:"previousID,omitempty"`
	Fields     []FieldChange `json:"fields"`
}

// FieldChange is one field that differs. Single values use Before/After;
// lists (ports, mounts, networks, capabilities, devices, security options)
// use Added/Removed with one string per element.
type FieldChange struct {
	// Field is a dotted JSON path of Container: "image", "imageID",
	// "ports", "mounts", "security.privileged", "security.capAdd", …
	Field   string   `json:"field"`
	Before  string   `json:"before,omitempty"`
	After   string   `json:"after,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Privilege marks changes to what the container may do (privileged,
	// capabilities, user, namespaces, devices, mounts, ports).
	Privilege bool `json:"privilege"`
}

// RefOf summarises a container.
func RefOf(c Container) ContainerRef {
	return ContainerRef{ID: c.ID, Name: c.Name, Runtime: c.Runtime, Image: c.Image, State: c.State, Unmanaged: c.Unmanaged}
}

// Diff compares the containers of two snapshots of the same host. prev may
// be nil (no earlier snapshot): nothing is reported then.
func Diff(prev, cur *Snapshot) Changes {
	ch := Changes{Added: []ContainerRef{}, Removed: []ContainerRef{}, Changed: []ContainerChange{}}
	if prev == nil || cur == nil {
		return ch
	}
	ch.Since = prev.Time
	// A source read on one side only: its containers are unknown on the
	// other, not added or removed.
	var skipAdded, skipRemoved func(*Container) bool
	never := func(*Container) bool { return false }
	skipAdded, skipRemoved = never, never
	switch {
	case prev.Docker != nil && cur.Docker == nil:
		skipRemoved = func(c *Container) bool { return hasSource(c, SourceAPI) }
		ch.Notes = append(ch.Notes, "the Docker API did not answer this time: its containers are not reported as removed")
	case prev.Docker == nil && cur.Docker != nil && prev.Proc != nil:
		skipAdded = func(c *Container) bool { return hasSource(c, SourceAPI) }
		ch.Notes = append(ch.Notes, "the Docker API did not answer last time: its containers are not reported as added")
	}
	if prev.Proc != nil && cur.Proc == nil {
		prevSkip := skipRemoved
		skipRemoved = func(c *Container) bool { return prevSkip(c) || !hasSource(c, SourceAPI) }
		ch.Notes = append(ch.Notes, "/proc could not be read this time: containers seen only there are not reported as removed")
	}
	old := make(map[string]*Container, len(prev.Containers))
	for i := range prev.Containers {
		old[prev.Containers[i].ID] = &prev.Containers[i]
	}
	var added []*Container
	matched := map[string]bool{}
	for i := range cur.Containers {
		c := &cur.Containers[i]
		if o, ok := old[c.ID]; ok {
			matched[c.ID] = true
			if f := compare(o, c); len(f) > 0 {
				ch.Changed = append(ch.Changed, ContainerChange{ContainerRef: RefOf(*c), Fields: f})
			}
			continue
		}
		added = append(added, c)
	}
	// A container recreated under the same name (docker rm + run, compose
	// up after an edit) is a change, not a removal and an addition.
	gone := map[string]*Container{}
	for i := range prev.Containers {
		o := &prev.Containers[i]
		if !matched[o.ID] {
			gone[o.Runtime+"\x00"+o.Name] = o
		}
	}
	for _, c := range added {
		if o, ok := gone[c.Runtime+"\x00"+c.Name]; ok && c.Name != "" {
			delete(gone, c.Runtime+"\x00"+c.Name)
			matched[o.ID] = true
			f := compare(o, c)
			ch.Changed = append(ch.Changed, ContainerChange{ContainerRef: RefOf(*c), PreviousID: o.ID, Fields: f})
			continue
		}
		if !skipAdded(c) {
			ch.Added = append(ch.Added, RefOf(*c))
		}
	}
	for i := range prev.Containers {
		o := &prev.Containers[i]
		if !matched[o.ID] && !skipRemoved(o) {
			ch.Removed = append(ch.Removed, RefOf(*o))
		}
	}
	byName := func(r []ContainerRef) {
		sort.Slice(r, func(i, j int) bool { return r[i].Name+r[i].ID < r[j].Name+r[j].ID })
	}
	byName(ch.Added)
	byName(ch.Removed)
	sort.Slice(ch.Changed, func(i, j int) bool {
		return ch.Changed[i].Name+ch.Changed[i].ID < ch.Changed[j].Name+ch.Changed[j].ID
	})
	return ch
}

// compare lists the fields that differ between two versions of a container.
// PIDs, timestamps and root filesystem paths are not compared: they change
// on every restart without saying anything about the container.
func compare(o, c *Container) []FieldChange {
	var f []FieldChange
	scalar := func(field, a, b string, priv bool) {
		if a != b {
			f = append(f, FieldChange{Field: field, Before: a, After: b, Privilege: priv})
		}
	}
	list := func(field string, a, b []string, priv bool) {
		add, rem := setDiff(a, b)
		if len(add)+len(rem) > 0 {
			f = append(f, FieldChange{Field: field, Added: add, Removed: rem, Privilege: priv})
		}
	}
	scalar("id", o.ID, c.ID, false)
	scalar("runtime", o.Runtime, c.Runtime, false)
	if hasSource(o, SourceAPI) != hasSource(c, SourceAPI) {
		// Seen through the API on one side only: the API's fields are
		// unknown on the other, not changed.
		return f
	}
	scalar("image", o.Image, c.Image, false)
	scalar("imageID", o.ImageID, c.ImageID, false)
	scalar("command", strings.Join(o.Command, " "), strings.Join(c.Command, " "), false)
	scalar("user", o.User, c.User, true)
	scalar("state", o.State, c.State, false)
	scalar("unmanaged", strconv.FormatBool(o.Unmanaged), strconv.FormatBool(c.Unmanaged), false)
	list("ports", portStrings(o.Ports), portStrings(c.Ports), true)
	list("mounts", mountStrings(o.Mounts), mountStrings(c.Mounts), true)
	list("networks", networkStrings(o.Networks), networkStrings(c.Networks), false)
	list("labels", labelStrings(o.Labels), labelStrings(c.Labels), false)
	// Security is only known from the API; a container seen only in /proc
	// on one side has nothing to compare.
	if o.Security != nil && c.Security != nil {
		a, b := o.Security, c.Security
		scalar("security.privileged", strconv.FormatBool(a.Privileged), strconv.FormatBool(b.Privileged), true)
		list("security.capAdd", a.CapAdd, b.CapAdd, true)
		list("security.capDrop", a.CapDrop, b.CapDrop, true)
		list("security.securityOpt", a.SecurityOpt, b.SecurityOpt, true)
		scalar("security.networkMode", a.NetworkMode, b.NetworkMode, true)
		scalar("security.pidMode", a.PidMode, b.PidMode, true)
		scalar("security.ipcMode", a.IpcMode, b.IpcMode, true)
		scalar("security.utsMode", a.UTSMode, b.UTSMode, true)
		scalar("security.usernsMode", a.UsernsMode, b.UsernsMode, true)
		scalar("security.readonlyRootfs", strconv.FormatBool(a.ReadonlyRootfs), strconv.FormatBool(b.ReadonlyRootfs), true)
		list("security.devices", a.Devices, b.Devices, true)
	}
	return f
}

func hasSource(c *Container, src string) bool {
	for _, s := range c.Sources {
		if s == src {
			return true
		}
	}
	return false
}

// setDiff returns the elements of b not in a, and of a not in b, sorted.
func setDiff(a, b []string) (added, removed []string) {
	in := func(s []string) map[string]bool {
		m := make(map[string]bool, len(s))
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for x := range mb {
		if !ma[x] {
			added = append(added, x)
		}
	}
	for x := range ma {
		if !mb[x] {
			removed = append(removed, x)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

// PortString renders a port as "0.0.0.0:8080->80/tcp".
func PortString(p Port) string {
	host := p.HostPort
	if p.HostIP != "" {
		if strings.Contains(p.HostIP, ":") {
			host = "[" + p.HostIP + "]:" + p.HostPort
		} else {
			host = p.HostIP + ":" + p.HostPort
		}
	}
	return fmt.Sprintf("%s->%s/%s", host, p.ContainerPort, p.Protocol)
}

func portStrings(ps []Port) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, PortString(p))
	}
	return out
}

// MountString renders a mount as "bind:/src->/dst:ro".
func MountString(m Mount) string {
	src := m.Source
	if m.Type == "volume" && m.Name != "" {
		src = m.Name
	}
	mode := "ro"
	if m.RW {
		mode = "rw"
	}
	return fmt.Sprintf("%s:%s->%s:%s", m.Type, src, m.Destination, mode)
}

func mountStrings(ms []Mount) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, MountString(m))
	}
	return out
}

func networkStrings(ns []Network) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

func labelStrings(l map[string]string) []string {
	out := make([]string, 0, len(l))
	for k, v := range l {
		out = append(out, k+"="+v)
	}
	return out
}

// Baseline picks, from earlier snapshots of a host (newest first), the one
// cur is best compared with: the newest that read every source cur read.
// A run with --no-docker in between would otherwise hide the containers
// the API started since the last full run (they would be compared with a
// snapshot that could not see them). Without such a snapshot, the newest
// one; nil when there is none.
func Baseline(prevs []*Snapshot, cur *Snapshot) *Snapshot {
	for _, p := range prevs {
		if (cur.Docker == nil || p.Docker != nil) && (cur.Proc == nil || p.Proc != nil) {
			return p
		}
	}
	if len(prevs) > 0 {
		return prevs[0]
	}
	return nil
}
