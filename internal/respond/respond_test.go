package respond_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/bulkhead-sec/bulkhead/internal/audit"
	"github.com/bulkhead-sec/bulkhead/internal/respond"
	"github.com/bulkhead-sec/bulkhead/internal/siem"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

type fakeEngine struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
}

func (f *fakeEngine) ContainerStop(_ context.Context, id string, _ container.StopOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "stop "+id)
	return f.fail[id]
}

func (f *fakeEngine) ContainerPause(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "pause "+id)
	return f.fail[id]
}

func cands() []respond.Candidate {
	return []respond.Candidate{
		{ID: "a1", Name: "/dev-web", State: "running", Reasons: []string{"5.5 privileged"}},
		{ID: "a1", Name: "/dev-web", State: "running", Reasons: []string{"5.32 socket", "5.5 privileged"}},
		{ID: "b2", Name: "prod-db", State: "running", Reasons: []string{"5.5"}},
		{ID: "c3", Name: "api", State: "running", Labels: map[string]string{"env": "prod"}, Reasons: []string{"5.5"}},
		{ID: "d4", Name: "batch", State: "running", Labels: map[string]string{"bulkhead.respond": "never"}, Reasons: []string{"5.5"}},
		{ID: "e5", Name: "old", State: "exited", Reasons: []string{"5.5"}},
		{ID: "f6", Name: "cache", State: "paused", Reasons: []string{"5.5"}},
		{ID: "g7", Name: "billing", State: "running", Labels: map[string]string{"bulkhead.respond": "Never"}, Reasons: []string{"5.5"}},
	}
}

func TestPlan(t *testing.T) {
	allow, err := respond.ParseRules([]string{"name=prod-*", "label=env=prod"})
	if err != nil {
		t.Fatal(err)
	}
	r := &respond.Responder{Mode: respond.Pause, Allow: allow, DryRun: true}
	plan := r.Plan(cands())
	got := map[string]respond.Action{}
	for _, a := range plan {
		got[a.ID] = a
	}
	if len(plan) != 7 {
		t.Fatalf("%d actions, want 7 (duplicates merged): %+v", len(plan), plan)
	}
	tests := []struct {
		id      string
		outcome respond.Outcome
		why     string
	}{
		{"a1", respond.Planned, ""},
		{"b2", respond.Skipped, "allow-listed by name=prod-*"},
		{"c3", respond.Skipped, "allow-listed by label=env=prod"},
		{"d4", respond.Skipped, "labelled bulkhead.respond=never"},
		{"e5", respond.Skipped, "not running (exited)"},
		{"f6", respond.Skipped, "already paused"},
		{"g7", respond.Skipped, "labelled bulkhead.respond=Never"},
	}
	for _, tc := range tests {
		if a := got[tc.id]; a.Outcome != tc.outcome || a.Why != tc.why {
			t.Errorf("%s: %s %q, want %s %q", tc.id, a.Outcome, a.Why, tc.outcome, tc.why)
		}
	}
	if rs := got["a1"].Reasons; len(rs) != 2 {
		t.Errorf("merged reasons %q", rs)
	}
	// Stopping an already paused container is allowed.
	r.Mode = respond.Stop
	for _, a := range r.Plan(cands()) {
		if a.ID == "f6" && a.Outcome != respond.Planned {
			t.Errorf("stop of a paused container: %s %s", a.Outcome, a.Why)
		}
	}
	// --respond-only narrows the scope.
	only, _ := respond.ParseRules([]string{"name=dev-*"})
	r.Only = only
	for _, a := range r.Plan(cands()) {
		if a.ID != "a1" && a.Outcome == respond.Planned {
			t.Errorf("%s planned outside the scope", a.ID)
		}
	}
}

func TestParseRule(t *testing.T) {
	for _, bad := range []string{"", "name=", "nam=x", "label=", "name=[", "prod-*"} {
		if _, err := respond.ParseRule(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	r, err := respond.ParseRule("label=team")
	if err != nil || !r.Matches(respond.Candidate{Labels: map[string]string{"team": ""}}) || r.Matches(respond.Candidate{}) {
		t.Errorf("label=team: %+v %v", r, err)
	}
	if _, err := respond.ParseMode("kill"); err == nil {
		t.Error("kill accepted")
	}
}

func TestExecuteDryRunDoesNothing(t *testing.T) {
	eng := &fakeEngine{}
	var logs, events bytes.Buffer
	r := &respond.Responder{Engine: eng, Mode: respond.Stop, DryRun: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Sink: siem.NewJSONL(&events)}
	done, err := r.Execute(context.Background(), r.Plan(cands()))
	if err != nil {
		t.Fatal(err)
	}
	if len(eng.calls) != 0 {
		t.Fatalf("dry run called the engine: %q", eng.calls)
	}
	var desc []string
	for _, a := range done {
		desc = append(desc, a.Describe())
		if a.ID == "a1" && a.Outcome != respond.DryRun {
			t.Errorf("a1 outcome %s", a.Outcome)
		}
	}
	if !strings.Contains(strings.Join(desc, "\n"), "would stop container dev-web (a1) because it failed 5.5 privileged; 5.32 socket") {
		t.Errorf("plan:\n%s", strings.Join(desc, "\n"))
	}
	if n := strings.Count(logs.String(), `"msg":"response"`); n != len(done) {
		t.Errorf("%d log records for %d actions", n, len(done))
	}
	lines := strings.Split(strings.TrimSpace(events.String()), "\n")
	if len(lines) != len(done) {
		t.Fatalf("%d events for %d actions", len(lines), len(done))
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["kind"] != siem.KindResponseAction || ev["outcome"] != "dry-run" || ev["dry_run"] != true {
		t.Errorf("event %s", lines[0])
	}
}

func TestExecuteActsAndReportsFailures(t *testing.T) {
	eng := &fakeEngine{fail: map[string]error{"a1": errors.New("boom")}}
	r := &respond.Responder{Engine: eng, Mode: respond.Stop}
	done, err := r.Execute(context.Background(), []respond.Action{
		{Mode: respond.Stop, ID: "a1", Container: "x", Outcome: respond.Planned},
		{Mode: respond.Stop, ID: "z9", Container: "y", Outcome: respond.Planned},
		{Mode: respond.Stop, ID: "s0", Container: "z", Outcome: respond.Skipped, Why: "allow-listed"},
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %v", err)
	}
	if strings.Join(eng.calls, ",") != "stop a1,stop z9" {
		t.Errorf("calls %q", eng.calls)
	}
	if done[0].Outcome != respond.Failed || done[1].Outcome != respond.Done || done[2].Outcome != respond.Skipped {
		t.Errorf("outcomes %+v", done)
	}
}

// TestRespondAgainstDockerd audits real containers and pauses or stops
// the failing ones; the allow-listed and never-labelled ones keep running.
func TestRespondAgainstDockerd(t *testing.T) {
	c := dockertest.Client(t)
	ctx := context.Background()
	mk := func(name string, labels map[string]string) string {
		id := dockertest.Create(t, c, name, &container.Config{Labels: labels}, &container.HostConfig{CapAdd: []string{"SYS_ADMIN"}})
		dockertest.Start(t, c, id)
		return id
	}
	victimPause := mk("bh-respond-pause", nil)
	victimStop := mk("bh-respond-stop", nil)
	prod := mk("bh-respond-prod-1", nil)
	never := mk("bh-respond-never", map[string]string{"bulkhead.respond": "never"})
	mine := map[string]bool{victimPause: true, victimStop: true, prod: true, never: true}

	rep, err := audit.Run(ctx, audit.Options{Root: t.TempDir(), Engine: c, Checks: []string{"5.4"}})
	if err != nil {
		t.Fatal(err)
	}
	var cs []respond.Candidate
	for _, cand := range rep.Candidates([]string{"5.4"}) {
		if mine[cand.ID] { // other tests' containers share this engine
			cs = append(cs, cand)
		}
	}
	if len(cs) != 4 {
		t.Fatalf("%d candidates, want 4: %+v", len(cs), cs)
	}
	allow, _ := respond.ParseRules([]string{"name=bh-respond-prod-*"})
	state := func(id string) string {
		j, err := c.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State.Status
	}

	// Dry run: the plan, and nothing changes.
	r := &respond.Responder{Engine: c, Mode: respond.Pause, Allow: allow, DryRun: true}
	done, err := r.Execute(ctx, r.Plan(cs))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range done {
		if a.ID == victimPause && a.Outcome != respond.DryRun {
			t.Errorf("dry run: %s", a.Describe())
		}
	}
	for id := range mine {
		if s := state(id); s != "running" {
			t.Errorf("dry run changed %.12s to %s", id, s)
		}
	}

	// For real: pause one, stop another.
	r.DryRun = false
	var pauseOnly []respond.Candidate
	for _, cand := range cs {
		if cand.ID != victimStop {
			pauseOnly = append(pauseOnly, cand)
		}
	}
	if _, err := r.Execute(ctx, r.Plan(pauseOnly)); err != nil {
		t.Fatal(err)
	}
	timeout := 1
	stopper := &respond.Responder{Engine: c, Mode: respond.Stop, Allow: allow, StopTimeout: &timeout}
	var stopOnly []respond.Candidate
	for _, cand := range cs {
		if cand.ID == victimStop {
			stopOnly = append(stopOnly, cand)
		}
	}
	start := time.Now()
	if _, err := stopper.Execute(ctx, stopper.Plan(stopOnly)); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v", time.Since(start))
	for id, want := range map[string]string{victimPause: "paused", victimStop: "exited", prod: "running", never: "running"} {
		if s := state(id); s != want {
			t.Errorf("%.12s is %s, want %s", id, s, want)
		}
	}
	// A paused container must be unpaused before it can be removed by the cleanup.
	_ = c.ContainerUnpause(ctx, victimPause)
}

func BenchmarkPlan10000(b *testing.B) {
	var cs []respond.Candidate
	for i := range 10000 {
		cs = append(cs, respond.Candidate{ID: strings.Repeat("x", 10) + string(rune('a'+i%26)) + time.Duration(i).String(),
			Name: "svc-" + time.Duration(i).String(), State: "running", Labels: map[string]string{"env": "dev"}, Reasons: []string{"5.5"}})
	}
	allow, _ := respond.ParseRules([]string{"name=prod-*", "label=env=prod"})
	r := &respond.Responder{Mode: respond.Stop, Allow: allow, DryRun: true}
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Plan(cs)) != len(cs) {
			b.Fatal("lost candidates")
		}
	}
}
