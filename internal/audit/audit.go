// Package audit checks a Docker host against the CIS Docker Benchmark
// (v1.6/v1.7): the host (section 1), the daemon's configuration (2), the
// daemon's files (3) and every container's runtime configuration (4, 5),
// plus a summary of what the host exposes to the network. Host, daemon
// and file checks read files under a root directory, so they run on a
// prepared directory as well as on the real host; containers come from the
// Docker Engine API.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/respond"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Info Status = "INFO"
	Note Status = "NOTE" // not applicable here, or needs a person to judge
)

// rank orders statuses worst first.
func (s Status) rank() int {
	switch s {
	case Fail:
		return 0
	case Warn:
		return 1
	case Info:
		return 2
	case Note:
		return 3
	}
	return 4
}

// Severities, the same words bulkhead uses for every finding.
const (
	Critical = inventory.SeverityCritical
	High     = inventory.SeverityHigh
	Medium   = inventory.SeverityMedium
	Low      = inventory.SeverityLow
	Unknown  = inventory.SeverityUnknown
)

// SeverityRank orders severities, CRITICAL highest (4); unknown words are 0.
func SeverityRank(s string) int { return inventory.SeverityRank(s) }

// Target kinds.
const (
	KindHost      = "host"
	KindDaemon    = "daemon"
	KindContainer = "container"
)

// Target is what a result is about.
type Target struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	ID   string `json:"id,omitempty"`
	// Image, State and Labels describe a container; the response engine
	// and the table use them, the JSON keeps the documented shape.
	Image  string            `json:"-"`
	State  string            `json:"-"`
	Labels map[string]string `json:"-"`
}

func (t Target) String() string {
	if t.Kind != KindContainer {
		return t.Kind
	}
	id := t.ID
	if len(id) > 12 {
		id = id[:12]
	}
	return "container " + t.Name + " (" + id + ")"
}

// Result is one check on one target.
type Result struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Result      Status `json:"result"`
	Severity    string `json:"severity"`
	Target      Target `json:"target"`
	Evidence    string `json:"evidence"`
	Remediation string `json:"remediation"`
}

// Fields is the result as a map for SIEM events.
func (r Result) Fields() map[string]any {
	t := map[string]any{"kind": r.Target.Kind}
	if r.Target.Name != "" {
		t["name"] = r.Target.Name
	}
	if r.Target.ID != "" {
		t["id"] = r.Target.ID
	}
	return map[string]any{
		"id": r.ID, "title": r.Title, "result": string(r.Result), "severity": r.Severity,
		"target": t, "evidence": r.Evidence, "remediation": r.Remediation,
	}
}

// Exposure says what is reachable from outside the host.
type Exposure struct {
	// Ports published on every interface (0.0.0.0 or ::).
	Ports []ExposedPort `json:"ports"`
	// HostNetwork containers share the host's network stack: every port
	// they listen on is reachable.
	HostNetwork []Target `json:"host_network"`
	// DaemonTCP lists -H tcp:// sockets of the daemon, with whether TLS
	// verification protects them.
	DaemonTCP []DaemonSocket `json:"daemon_tcp"`
}

// ExposedPort is one published port.
type ExposedPort struct {
	Container Target `json:"container"`
	State     string `json:"state"`
	HostIP    string `json:"host_ip"`
	HostPort  string `json:"host_port"`
	Port      string `json:"port"` // container port/proto, 80/tcp
}

// DaemonSocket is a TCP address the daemon listens on.
type DaemonSocket struct {
	Address   string `json:"address"`
	TLSVerify bool   `json:"tls_verify"`
}

// Report is the outcome of one audit.
type Report struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Root     string    `json:"root"`
	Results  []Result  `json:"results"`
	Exposure Exposure  `json:"exposure"`
	Summary  Summary   `json:"summary"`
	// Partial names the sections that could not run completely and why.
	Partial []string `json:"partial,omitempty"`
	// Warnings are files that could not be read and containers skipped.
	Warnings []string `json:"warnings,omitempty"`
	// Responses are the actions the response engine planned or took on
	// failing containers (bulkhead audit --respond).
	Responses []respond.Action `json:"responses,omitempty"`
}

// Summary counts results.
type Summary struct {
	Total      int `json:"total"`
	Fail       int `json:"fail"`
	Warn       int `json:"warn"`
	Info       int `json:"info"`
	Note       int `json:"note"`
	Pass       int `json:"pass"`
	Containers int `json:"containers"`
}

func summarize(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		s.Total++
		switch r.Result {
		case Fail:
			s.Fail++
		case Warn:
			s.Warn++
		case Info:
			s.Info++
		case Note:
			s.Note++
		case Pass:
			s.Pass++
		}
	}
	return s
}

// Options configure Run.
type Options struct {
	// Root is where host files are read from ("/" for the real host).
	Root string
	// Engine is the Docker Engine; nil means no API (host checks only,
	// container section marked partial with EngineErr as the reason).
	Engine Engine
	// EngineErr says why Engine is nil (e.g. the connection error).
	EngineErr error
	// Checks and Skip select checks by id ("5.5") or section ("5", "1.1").
	Checks, Skip []string
	// Parallel bounds concurrent container inspections (default 8).
	Parallel int
	// APITimeout bounds each Docker API call (default 15s).
	APITimeout time.Duration
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now stamps the report (tests pin it).
	Now func() time.Time
	// Host names the machine in the report.
	Host string
}

// Run audits the host, the daemon, its files and every container.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.Root = cmp.Or(o.Root, "/")
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.APITimeout <= 0 {
		o.APITimeout = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	a := &auditor{o: o, sel: newSelector(o.Checks, o.Skip), rep: &Report{Time: now().UTC(), Root: o.Root, Host: o.Host}}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.collectDaemon(ctx)
	a.hostChecks()
	a.daemonChecks()
	a.fileChecks()
	a.containerChecks(ctx)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit interrupted: %w", err)
	}
	sortResults(a.rep.Results)
	n := a.rep.Summary.Containers
	a.rep.Summary = summarize(a.rep.Results)
	a.rep.Summary.Containers = n
	return a.rep, nil
}

type auditor struct {
	o   Options
	sel selector
	rep *Report
	d   *daemonState
}

func (a *auditor) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.rep.Warnings = append(a.rep.Warnings, msg)
	a.o.Logger.Warn(msg)
}

// add records a result for check id; the check's title, severity and
// remediation come from the catalogue.
func (a *auditor) add(id string, t Target, st Status, evidence string) {
	c, ok := checkByID[id]
	if !ok {
		panic("audit: no check " + id) // programming error, caught by tests
	}
	if !a.sel.enabled(id) {
		return
	}
	a.rep.Results = append(a.rep.Results, Result{
		ID: id, Title: c.Title, Result: st, Severity: c.Severity, Target: t,
		Evidence: evidence, Remediation: c.Remediation,
	})
}

// sortResults orders by target (host, daemon, then containers worst
// first), then status worst first, severity, id. Keys are computed once:
// a report on thousands of containers has tens of thousands of results.
func sortResults(rs []Result) {
	type tkey struct{ kind, id string }
	worst := map[tkey][2]int{}
	for _, r := range rs {
		k := tkey{r.Target.Kind, r.Target.ID}
		score := [2]int{r.Result.rank(), -SeverityRank(r.Severity)}
		if w, ok := worst[k]; !ok || score[0] < w[0] || (score[0] == w[0] && score[1] < w[1]) {
			worst[k] = score
		}
	}
	kindRank := map[string]int{KindHost: 0, KindDaemon: 1, KindContainer: 2}
	type key struct {
		kind      int
		worst     [2]int
		name, tid string
		rank, sev int
		id        [4]int
		idx       int
	}
	keys := make([]key, len(rs))
	for i, r := range rs {
		keys[i] = key{kindRank[r.Target.Kind], worst[tkey{r.Target.Kind, r.Target.ID}], r.Target.Name, r.Target.ID,
			r.Result.rank(), -SeverityRank(r.Severity), idNumbers(r.ID), i}
	}
	slices.SortFunc(keys, func(x, y key) int {
		if c := cmp.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		if x.tid != y.tid {
			if c := cmp.Compare(x.worst[0], y.worst[0]); c != 0 {
				return c
			}
			if c := cmp.Compare(x.worst[1], y.worst[1]); c != 0 {
				return c
			}
			if c := cmp.Compare(x.name, y.name); c != 0 {
				return c
			}
			return cmp.Compare(x.tid, y.tid)
		}
		if c := cmp.Compare(x.rank, y.rank); c != 0 {
			return c
		}
		if c := cmp.Compare(x.sev, y.sev); c != 0 {
			return c
		}
		if c := slices.Compare(x.id[:], y.id[:]); c != 0 {
			return c
		}
		return cmp.Compare(x.idx, y.idx)
	})
	sorted := make([]Result, len(rs))
	for i, k := range keys {
		sorted[i] = rs[k.idx]
	}
	copy(rs, sorted)
}

// idNumbers splits a CIS id into numbers so 1.1.2 sorts before 1.1.10.
func idNumbers(id string) [4]int {
	var out [4]int
	for i, p := range strings.SplitN(id, ".", 4) {
		n, _ := strconv.Atoi(p)
		out[i] = n + 1 // 0 means "no component": 5 before 5.1
	}
	return out
}

// selector decides which checks run.
type selector struct{ only, skip []string }

func newSelector(only, skip []string) selector {
	clean := func(in []string) []string {
		var out []string
		for _, s := range in {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return selector{clean(only), clean(skip)}
}

func matchID(pattern, id string) bool {
	if pattern == id || strings.HasPrefix(id, pattern+".") {
		return true
	}
	ok, _ := path.Match(pattern, id)
	return ok
}

func (s selector) enabled(id string) bool {
	for _, p := range s.skip {
		if matchID(p, id) {
			return false
		}
	}
	if len(s.only) == 0 {
		return true
	}
	for _, p := range s.only {
		if matchID(p, id) {
			return true
		}
	}
	return false
}

// sectionEnabled reports whether any check under prefix would run.
func (s selector) sectionEnabled(prefix string) bool {
	for _, c := range Catalogue() {
		if (c.ID == prefix || strings.HasPrefix(c.ID, prefix+".")) && s.enabled(c.ID) {
			return true
		}
	}
	return false
}

// MatchAny reports whether check id is named by any of patterns: an id
// (5.5), a section (5, 1.1), a glob (5.*), or FAIL/ALL for every check.
func MatchAny(patterns []string, id string) bool {
	for _, p := range newSelector(patterns, nil).only {
		if strings.EqualFold(p, "FAIL") || strings.EqualFold(p, "ALL") || matchID(p, id) {
			return true
		}
	}
	return false
}

// Candidates lists the containers with a FAIL on one of the checks named
// by forChecks (ids, sections, globs, or "FAIL" for any check), for the
// response engine.
func (r *Report) Candidates(forChecks []string) []respond.Candidate {
	var out []respond.Candidate
	index := map[string]int{}
	for _, res := range r.Results {
		if res.Target.Kind != KindContainer || res.Result != Fail || !MatchAny(forChecks, res.ID) {
			continue
		}
		reason := res.ID + " " + res.Title
		if i, ok := index[res.Target.ID]; ok {
			out[i].Reasons = append(out[i].Reasons, reason)
			continue
		}
		index[res.Target.ID] = len(out)
		out = append(out, respond.Candidate{ID: res.Target.ID, Name: res.Target.Name, State: res.Target.State,
			Labels: res.Target.Labels, Reasons: []string{reason}})
	}
	return out
}
