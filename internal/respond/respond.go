// Package respond stops or pauses containers that failed a check. It is a
// small, reusable API: a Responder plans actions for candidates (audit
// results, drift findings, a watch loop's events), an allow-list keeps
// named containers out of reach, and nothing happens unless the caller
// turns dry-run off. Every planned, skipped and executed action is logged
// and emitted as a SIEM event.
package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

// Mode is what happens to a container.
type Mode string

const (
	Stop  Mode = "stop"
	Pause Mode = "pause"
)

// ParseMode accepts "stop" or "pause".
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(s)) {
	case Stop:
		return Stop, nil
	case Pause:
		return Pause, nil
	}
	return "", fmt.Errorf("unknown response %q (use stop or pause)", s)
}

// Engine is the part of the Docker Engine API a Responder uses;
// *client.Client implements it.
type Engine interface {
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	ContainerPause(ctx context.Context, containerID string) error
}

// Candidate is a container that something wants acted on.
type Candidate struct {
	ID     string
	Name   string
	State  string // running, paused, created, exited…
	Labels map[string]string
	// Reasons name what it failed ("5.5 privileged", "drift: exec-not-in-image").
	Reasons []string
}

// NeverLabel on a container keeps every response away from it.
const NeverLabel = "bulkhead.respond"

// Rule is one allow-list entry: containers matching it are never touched.
type Rule struct {
	NameGlob string // name=GLOB
	Label    string // label=KEY or label=KEY=VALUE
	Value    string
	HasValue bool
}

// ParseRule reads "name=GLOB", "label=KEY" or "label=KEY=VALUE".
func ParseRule(s string) (Rule, error) {
	kind, rest, ok := strings.Cut(s, "=")
	if !ok || rest == "" {
		return Rule{}, fmt.Errorf("allow-list entry %q: want name=GLOB, label=KEY or label=KEY=VALUE", s)
	}
	switch kind {
	case "name":
		if _, err := path.Match(rest, ""); err != nil {
			return Rule{}, fmt.Errorf("allow-list entry %q: bad glob: %w", s, err)
		}
		return Rule{NameGlob: rest}, nil
	case "label":
		k, v, hasV := strings.Cut(rest, "=")
		return Rule{Label: k, Value: v, HasValue: hasV}, nil
	}
	return Rule{}, fmt.Errorf("allow-list entry %q: want name=GLOB, label=KEY or label=KEY=VALUE", s)
}

// ParseRules parses each entry with ParseRule.
func ParseRules(ss []string) ([]Rule, error) {
	var out []Rule
	for _, s := range ss {
		r, err := ParseRule(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (r Rule) String() string {
	if r.NameGlob != "" {
		return "name=" + r.NameGlob
	}
	if r.HasValue {
		return "label=" + r.Label + "=" + r.Value
	}
	return "label=" + r.Label
}

// Matches reports whether c is covered by the rule.
func (r Rule) Matches(c Candidate) bool {
	if r.NameGlob != "" {
		ok, _ := path.Match(r.NameGlob, strings.TrimPrefix(c.Name, "/"))
		return ok
	}
	v, ok := c.Labels[r.Label]
	return ok && (!r.HasValue || v == r.Value)
}

// Outcome of an action.
type Outcome string

const (
	Planned Outcome = "planned" // Plan made it; Execute not called yet
	DryRun  Outcome = "dry-run" // Execute ran in dry-run: nothing done
	Done    Outcome = "done"
	Skipped Outcome = "skipped" // allow-listed, not running, already paused…
	Failed  Outcome = "failed"
)

// Action is one decision about one container.
type Action struct {
	Mode      Mode      `json:"mode"`
	Container string    `json:"container"`
	ID        string    `json:"id"`
	Reasons   []string  `json:"reasons"`
	Outcome   Outcome   `json:"outcome"`
	Why       string    `json:"why,omitempty"` // why skipped or failed
	DryRun    bool      `json:"dry_run"`
	Time      time.Time `json:"time"`
}

// Describe is the line a person reads: what was (or would be) done and why.
func (a Action) Describe() string {
	id := a.ID
	if len(id) > 12 {
		id = id[:12]
	}
	target := fmt.Sprintf("%s container %s (%s)", a.Mode, a.Container, id)
	switch a.Outcome {
	case Planned, DryRun:
		return "would " + target + " because it failed " + strings.Join(a.Reasons, "; ")
	case Done:
		return "did " + target + " because it failed " + strings.Join(a.Reasons, "; ")
	case Skipped:
		return "skip " + target + ": " + a.Why
	}
	return "FAILED to " + target + ": " + a.Why
}

// Responder plans and carries out responses.
type Responder struct {
	Engine Engine
	Mode   Mode
	// Allow keeps matching containers untouched; a container labelled
	// bulkhead.respond=never is always untouched.
	Allow []Rule
	// Only, when set, limits responses to containers matching one of
	// its rules (a scope: "only my team's containers").
	Only []Rule
	// DryRun (the default a caller should choose) plans and reports but
	// never calls the engine.
	DryRun bool
	// StopTimeout is the grace period before SIGKILL on stop (nil: the
	// container's own StopTimeout, else the daemon's 10 s).
	StopTimeout *int
	Logger      *slog.Logger
	// Sink receives one response-action event per executed action (may be nil).
	Sink siem.Sink
	// Host names this machine in events.
	Host string
	Now  func() time.Time
}

func (r *Responder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Plan decides what to do with each candidate, without side effects.
// Candidates with the same ID are merged.
func (r *Responder) Plan(cands []Candidate) []Action {
	var out []Action
	seen := map[string]int{}
	for _, c := range cands {
		if i, ok := seen[c.ID]; ok {
			out[i].Reasons = appendNew(out[i].Reasons, c.Reasons...)
			continue
		}
		a := Action{Mode: r.Mode, Container: strings.TrimPrefix(c.Name, "/"), ID: c.ID, Reasons: appendNew(nil, c.Reasons...),
			Outcome: Planned, DryRun: r.DryRun, Time: r.now()}
		switch {
		case strings.EqualFold(strings.TrimSpace(c.Labels[NeverLabel]), "never"):
			// Never, NEVER: a person wrote it; keep the container safe.
			a.Outcome, a.Why = Skipped, "labelled "+NeverLabel+"="+c.Labels[NeverLabel]
		default:
			for _, rule := range r.Allow {
				if rule.Matches(c) {
					a.Outcome, a.Why = Skipped, "allow-listed by "+rule.String()
					break
				}
			}
		}
		if a.Outcome == Planned && len(r.Only) > 0 && !slices.ContainsFunc(r.Only, func(rule Rule) bool { return rule.Matches(c) }) {
			a.Outcome, a.Why = Skipped, "outside the --respond-only scope"
		}
		if a.Outcome == Planned {
			switch {
			case r.Mode == Pause && c.State == "paused":
				a.Outcome, a.Why = Skipped, "already paused"
			case c.State != "" && c.State != "running" && c.State != "paused" && c.State != "restarting":
				a.Outcome, a.Why = Skipped, "not running ("+c.State+")"
			}
		}
		seen[c.ID] = len(out)
		out = append(out, a)
	}
	return out
}

func appendNew(dst []string, src ...string) []string {
	for _, s := range src {
		found := false
		for _, d := range dst {
			if d == s {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// Execute carries out planned actions (or, in dry-run, only reports
// them) and returns them with their outcome. Every action is logged and
// emitted; the error joins the failures.
func (r *Responder) Execute(ctx context.Context, actions []Action) ([]Action, error) {
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	out := make([]Action, len(actions))
	var errs []error
	for i, a := range actions {
		a.Time, a.DryRun = r.now(), r.DryRun
		if a.Outcome == Planned {
			switch {
			case r.DryRun:
				a.Outcome = DryRun
			case ctx.Err() != nil:
				a.Outcome, a.Why = Failed, ctx.Err().Error()
			case r.Engine == nil:
				a.Outcome, a.Why = Failed, "no Docker Engine to act through"
			default:
				var err error
				switch a.Mode {
				case Stop:
					err = r.Engine.ContainerStop(ctx, a.ID, container.StopOptions{Timeout: r.StopTimeout})
				case Pause:
					err = r.Engine.ContainerPause(ctx, a.ID)
				default:
					err = fmt.Errorf("unknown mode %q", a.Mode)
				}
				if err != nil {
					a.Outcome, a.Why = Failed, err.Error()
					errs = append(errs, fmt.Errorf("%s %s: %w", a.Mode, a.Container, err))
				} else {
					a.Outcome = Done
				}
			}
		}
		out[i] = a
		level := slog.LevelInfo
		switch a.Outcome {
		case Done:
			level = slog.LevelWarn // a container was changed: visible at the default log level
		case Failed:
			level = slog.LevelError
		}
		logger.Log(ctx, level, "response", "action", string(a.Mode), "container", a.Container, "id", a.ID,
			"outcome", string(a.Outcome), "why", a.Why, "reasons", strings.Join(a.Reasons, "; "))
		if r.Sink != nil {
			if err := r.Sink.Emit(a.Event(r.Host)); err != nil {
				errs = append(errs, fmt.Errorf("emit response event: %w", err))
			}
		}
	}
	return out, errors.Join(errs...)
}

// Event is the SIEM event for an action (kind response-action).
func (a Action) Event(host string) siem.Event {
	sev := siem.Notice
	switch a.Outcome {
	case Done:
		sev = siem.Warning
	case Failed:
		sev = siem.Error
	case Skipped, DryRun:
		sev = siem.Informational
	}
	data := map[string]any{
		"action": string(a.Mode), "outcome": string(a.Outcome), "dry_run": a.DryRun,
		"target":  map[string]any{"kind": "container", "name": a.Container, "id": a.ID},
		"reasons": a.Reasons,
	}
	if a.Why != "" {
		data["why"] = a.Why
	}
	return siem.Event{Time: a.Time, Host: host, Kind: siem.KindResponseAction, Severity: sev, Message: a.Describe(), Data: data}
}
