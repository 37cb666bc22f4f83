package drift

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/respond"
	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

// Formats drift output can take.
var Formats = []string{"table", "json", "jsonl", "syslog"}

// Report is the drift of every container checked in one run.
type Report struct {
	// Host and Time say where and when the check ran (the SIEM events
	// carry them); the CLI sets them.
	Host       string             `json:"host,omitempty"`
	Time       time.Time          `json:"time,omitzero"`
	Containers []ContainerSummary `json:"containers"`
	Findings   []Finding          `json:"findings"`
	Warnings   []string           `json:"warnings,omitempty"`
	Partial    bool               `json:"partial,omitempty"`
	// Responses are the actions planned or taken on drifted containers
	// (bulkhead drift --respond).
	Responses []respond.Action `json:"responses,omitempty"`
}

// ContainerSummary is one checked container, without its findings.
type ContainerSummary struct {
	Container ContainerRef `json:"container"`
	Image     string       `json:"image"`
	ImageID   string       `json:"imageID,omitempty"`
	Running   bool         `json:"running"`
	Changes   int          `json:"changes"`
	Processes int          `json:"processes"`
	Findings  int          `json:"findings"`
	Partial   bool         `json:"partial,omitempty"`
	Warnings  []string     `json:"warnings,omitempty"`
	Error     string       `json:"error,omitempty"`
}

// Add records one container's result.
func (r *Report) Add(res *Result) {
	r.Containers = append(r.Containers, ContainerSummary{
		Container: res.Container, Image: res.Image, ImageID: res.ImageID, Running: res.Running,
		Changes: res.Changes, Processes: res.Processes, Findings: len(res.Findings),
		Partial: res.Partial, Warnings: res.Warnings,
	})
	r.Findings = append(r.Findings, res.Findings...)
	r.Partial = r.Partial || res.Partial
}

// AddError records a container that could not be checked.
func (r *Report) AddError(name string, err error) {
	r.Containers = append(r.Containers, ContainerSummary{Container: ContainerRef{Name: name}, Error: err.Error(), Partial: true})
	r.Partial = true
}

// Write renders the report as table, json, or jsonl (one finding per
// line).
func Write(w io.Writer, format string, r *Report) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Containers == nil {
		r.Containers = []ContainerSummary{}
	}
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	case "jsonl":
		enc := json.NewEncoder(bw)
		for i := range r.Findings {
			if err := enc.Encode(&r.Findings[i]); err != nil {
				return err
			}
		}
	case "syslog":
		if err := siem.EmitAll(siem.NewSyslog(bw), Events(r)); err != nil {
			return err
		}
	case "table", "":
		writeTable(bw, r)
	default:
		return fmt.Errorf("unknown format %q (use %s)", format, strings.Join(Formats, ", "))
	}
	return bw.Flush()
}

// writeTable groups findings by container, worst first.
func writeTable(w io.Writer, r *Report) {
	byID := map[string][]Finding{}
	for _, f := range r.Findings {
		byID[f.Container.ID] = append(byID[f.Container.ID], f)
	}
	// Worst container first: highest severity, then most findings.
	worst := func(c ContainerSummary) int {
		w := 0
		for _, f := range byID[c.Container.ID] {
			w = max(w, severityRank(f.Severity))
		}
		return w
	}
	cs := slices.Clone(r.Containers)
	sort.SliceStable(cs, func(i, j int) bool {
		wi, wj := worst(cs[i]), worst(cs[j])
		if wi != wj {
			return wi > wj
		}
		return len(byID[cs[i].Container.ID]) > len(byID[cs[j].Container.ID])
	})
	for i, c := range cs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		id := c.Container.ID
		if len(id) > 12 {
			id = id[:12]
		}
		if c.Error != "" {
			fmt.Fprintf(w, "%s: not checked: %s\n", c.Container.Name, c.Error)
			continue
		}
		fs := byID[c.Container.ID]
		state := ""
		if c.Partial {
			state = ", partial"
		}
		fmt.Fprintf(w, "%s (%s, image %s): %d changes, %d processes, %d findings%s\n",
			c.Container.Name, id, c.Image, c.Changes, c.Processes, len(fs), state)
		if len(fs) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tKIND\tPATH\tDETAIL")
		for _, f := range fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Kind, tabSafe(f.Path), tabSafe(DescribeDetail(f)))
		}
		tw.Flush()
	}
	if len(r.Containers) == 0 {
		fmt.Fprintln(w, "no running containers")
	}
}

// DescribeDetail says in one line how a finding differs.
func DescribeDetail(f Finding) string {
	d := f.Detail
	var parts []string
	switch f.Kind {
	case KindPackageInstalled:
		parts = append(parts, fmt.Sprintf("%s %s %s", d.PackageType, d.Package, d.NewVersion))
	case KindPackageRemoved:
		parts = append(parts, fmt.Sprintf("%s %s %s", d.PackageType, d.Package, d.OldVersion))
	case KindPackageChanged:
		parts = append(parts, fmt.Sprintf("%s %s %s -> %s", d.PackageType, d.Package, d.OldVersion, d.NewVersion))
	case KindExecNotInImage, KindExecModified:
		parts = append(parts, fmt.Sprintf("pid %s", joinInts(d.PIDs)))
		if d.Cmdline != "" {
			parts = append(parts, fmt.Sprintf("cmd %q", d.Cmdline))
		}
		if d.ExeDeleted {
			parts = append(parts, "program deleted after exec")
		}
	}
	if d.FileType != "" && d.FileType != "data" {
		parts = append(parts, d.FileType)
	}
	if d.LinkTarget != "" {
		parts = append(parts, "-> "+d.LinkTarget)
	}
	switch {
	case d.OldSize != nil && d.NewSize != nil:
		parts = append(parts, fmt.Sprintf("size %d -> %d", *d.OldSize, *d.NewSize))
	case d.NewSize != nil:
		parts = append(parts, fmt.Sprintf("size %d", *d.NewSize))
	case d.OldSize != nil:
		parts = append(parts, fmt.Sprintf("was %d bytes", *d.OldSize))
	}
	switch {
	case d.OldSHA256 != "" && d.NewSHA256 != "":
		parts = append(parts, fmt.Sprintf("sha256 %s -> %s", d.OldSHA256, d.NewSHA256))
	case d.NewSHA256 != "":
		parts = append(parts, "sha256 "+d.NewSHA256)
	}
	if d.OldMode != "" && d.NewMode != "" && d.OldMode != d.NewMode {
		parts = append(parts, fmt.Sprintf("mode %s -> %s", d.OldMode, d.NewMode))
	}
	if d.Truncated {
		parts = append(parts, "hash of first bytes only")
	}
	if d.Note != "" {
		parts = append(parts, d.Note)
	}
	return strings.Join(parts, ", ")
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	if len(s) > 5 {
		return strings.Join(s[:5], ",") + fmt.Sprintf(",… (%d)", len(s))
	}
	return strings.Join(s, ",")
}

// tabSafe keeps a value from a container (a path, a command line) from
// breaking the table: control characters become '?'.
func tabSafe(s string) string { return strings.Map(printable, s) }

// Kinds lists every finding kind, for validating what a response is for.
var Kinds = []Kind{
	KindAddedExecutable, KindModifiedExecutable, KindAddedLibrary, KindModifiedLibrary,
	KindAdded, KindModified, KindDeleted, KindPackageInstalled, KindPackageRemoved,
	KindPackageChanged, KindExecNotInImage, KindExecModified,
}

// ValidTrigger reports whether t can name what a response is for: a
// finding kind, a severity (that severity or worse), or ANY.
func ValidTrigger(t string) bool {
	if strings.EqualFold(t, "ANY") || inventory.SeverityRank(t) > 0 {
		return true
	}
	return slices.Contains(Kinds, Kind(t))
}

func matchesTrigger(f *Finding, t string) bool {
	switch {
	case strings.EqualFold(t, "ANY"):
		return true
	case inventory.SeverityRank(t) > 0:
		return inventory.SeverityRank(f.Severity) >= inventory.SeverityRank(t)
	}
	return string(f.Kind) == t
}

// Candidates are the containers with a finding that matches one of
// triggers (see ValidTrigger), each with the findings as its reasons. The
// caller fills in State and Labels (the report does not keep them) before
// the responder's allow-list sees them.
func (r *Report) Candidates(triggers []string) []respond.Candidate {
	var out []respond.Candidate
	index := map[string]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if !slices.ContainsFunc(triggers, func(t string) bool { return matchesTrigger(f, t) }) {
			continue
		}
		reason := "drift: " + string(f.Kind) + " " + f.Path
		if j, ok := index[f.Container.ID]; ok {
			out[j].Reasons = append(out[j].Reasons, reason)
			continue
		}
		index[f.Container.ID] = len(out)
		out = append(out, respond.Candidate{ID: f.Container.ID, Name: f.Container.Name, Reasons: []string{reason}})
	}
	return out
}

// Events turns a report into SIEM events: one drift-finding per finding
// (HIGH findings at syslog err) and one response-action per response.
func Events(r *Report) []siem.Event {
	host, now := r.Host, r.Time
	if host == "" {
		host = siem.Hostname()
	}
	if now.IsZero() {
		now = time.Now().UTC()
	}
	evs := make([]siem.Event, 0, len(r.Findings)+len(r.Responses))
	for i := range r.Findings {
		f := &r.Findings[i]
		evs = append(evs, siem.Event{
			Time: now, Host: host, Kind: siem.KindDriftFinding, Severity: siem.SeverityFor(f.Severity),
			Message: fmt.Sprintf("drift %s %s in container %s (%s)", f.Kind, f.Path, f.Container.Name, f.Image),
			Data:    siem.Fields(f),
		})
	}
	for _, a := range r.Responses {
		evs = append(evs, siem.Event{
			Time: a.Time, Host: host, Kind: siem.KindResponseAction, Severity: siem.Warning,
			Message: a.Describe(), Data: siem.Fields(a),
		})
	}
	return evs
}
