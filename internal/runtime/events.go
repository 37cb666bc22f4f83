package runtime

import (
	"fmt"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

// Events turns an inventory into SIEM events: one unmanaged-container per
// container no API knows (the stray container someone started by hand),
// and one container-added, -removed or -changed per change since the
// previous snapshot. A change to what a container may do (privileges,
// capabilities, mounts, ports, user) is a syslog warning; other changes
// and containers coming and going are notices.
func Events(snap *Snapshot, ch Changes) []siem.Event {
	var evs []siem.Event
	ev := func(kind string, sev siem.Severity, msg string, data any) {
		evs = append(evs, siem.Event{Time: snap.Time, Host: snap.Host, Kind: kind, Severity: sev, Message: msg, Data: siem.Fields(data)})
	}
	for _, c := range snap.Containers {
		if c.Unmanaged {
			ev(siem.KindUnmanagedContainer, siem.Warning,
				fmt.Sprintf("unmanaged %s container %s (PIDs %v) is not known to any container API", c.Runtime, label(RefOf(c)), c.PIDs), RefOf(c))
		}
	}
	for _, c := range ch.Added {
		ev(siem.KindContainerAdded, siem.Notice, "container added: "+label(c), c)
	}
	for _, c := range ch.Removed {
		ev(siem.KindContainerRemoved, siem.Notice, "container removed: "+label(c), c)
	}
	for _, c := range ch.Changed {
		sev := siem.Notice
		var fields []string
		for _, f := range c.Fields {
			fields = append(fields, f.Field)
			if f.Privilege {
				sev = siem.Warning
			}
		}
		ev(siem.KindContainerChanged, sev, fmt.Sprintf("container changed: %s (%s)", label(c.ContainerRef), strings.Join(fields, ", ")), c)
	}
	return evs
}

func label(c ContainerRef) string {
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	if c.Name == "" {
		return id
	}
	return c.Name + " (" + id + ")"
}
