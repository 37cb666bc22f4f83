package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

// riskyContainers creates one container per risky option (and a hardened
// one) and returns name → id.
func riskyContainers(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	mk := func(name string, cfg *container.Config, hc *container.HostConfig, start bool) {
		ids[name] = dockertest.Create(t, c, name, cfg, hc)
		if start {
			dockertest.Start(t, c, ids[name])
		}
	}
	// --privileged containers cannot start in this sandbox: created only.
	mk("bh-audit-privileged", &container.Config{}, &container.HostConfig{Privileged: true}, false)
	mk("bh-audit-capadd", &container.Config{}, &container.HostConfig{CapAdd: []string{"SYS_ADMIN"}}, true)
	mk("bh-audit-sock", &container.Config{}, &container.HostConfig{
		Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}}, false)
	mk("bh-audit-hostnet", &container.Config{}, &container.HostConfig{NetworkMode: "host"}, true)
	mk("bh-audit-port", &container.Config{ExposedPorts: nat.PortSet{"80/tcp": {}, "443/tcp": {}}}, &container.HostConfig{
		PortBindings: nat.PortMap{
			"80/tcp":  {{HostIP: "0.0.0.0", HostPort: "8080"}},
			"443/tcp": {{HostIP: "0.0.0.0", HostPort: "443"}},
		}}, false)
	mk("bh-audit-root", &container.Config{User: "root"}, &container.HostConfig{}, true)
	mk("bh-audit-etc", &container.Config{}, &container.HostConfig{Binds: []string{"/etc:/host-etc:ro"}, PidMode: "host"}, false)
	mk("bh-audit-unconfined", &container.Config{}, &container.HostConfig{SecurityOpt: []string{"seccomp=unconfined"},
		RestartPolicy: container.RestartPolicy{Name: "always"}}, false)

	// Docker parses the value with strconv.ParseBool: "0" turns it off.
	mk("bh-audit-nnp-off", &container.Config{}, &container.HostConfig{SecurityOpt: []string{"no-new-privileges=0"}}, false)

	pids, mem := int64(64), int64(64<<20)
	mk("bh-audit-hardened", &container.Config{
		User:         "1000:1000",
		ExposedPorts: nat.PortSet{"80/tcp": {}},
		Healthcheck:  &container.HealthConfig{Test: []string{"CMD", "true"}, Interval: 30 * time.Second},
	}, &container.HostConfig{
		ReadonlyRootfs: true,
		SecurityOpt:    []string{"no-new-privileges"},
		CapDrop:        []string{"ALL"},
		Resources:      container.Resources{Memory: mem, NanoCPUs: 500_000_000, PidsLimit: &pids},
		PortBindings:   nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: "38181"}}},
		RestartPolicy:  container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5},
	}, true)
	return ids
}

// byContainer groups results by container id.
func byContainer(rep *Report) map[string]map[string]Result {
	m := map[string]map[string]Result{}
	for _, r := range rep.Results {
		if r.Target.Kind != KindContainer {
			continue
		}
		if m[r.Target.ID] == nil {
			m[r.Target.ID] = map[string]Result{}
		}
		m[r.Target.ID][r.ID] = r
	}
	return m
}

func TestContainersAgainstDockerd(t *testing.T) {
	c := dockertest.Client(t)
	ids := riskyContainers(t, c)
	rep, err := Run(context.Background(), Options{Root: t.TempDir(), Engine: c, Checks: []string{"4", "5"}})
	if err != nil {
		t.Fatal(err)
	}
	got := byContainer(rep)
	tests := []struct {
		name    string
		fail    []string // must FAIL
		notFail []string // must not FAIL
	}{
		{"bh-audit-privileged", []string{"5.5", "5.22"}, []string{"5.4", "5.32", "5.10"}},
		{"bh-audit-capadd", []string{"5.4"}, []string{"5.5", "5.32", "5.10", "5.6"}},
		{"bh-audit-sock", []string{"5.32"}, []string{"5.5", "5.4", "5.6"}},
		{"bh-audit-hostnet", []string{"5.10"}, []string{"5.5", "5.14", "5.32"}},
		{"bh-audit-port", []string{"5.14", "5.8"}, []string{"5.5", "5.10"}},
		{"bh-audit-root", []string{"4.1", "5.11", "5.12", "5.29", "5.13", "5.26"}, []string{"5.5", "5.4", "5.14"}},
		{"bh-audit-etc", []string{"5.6", "5.16"}, []string{"5.32", "5.5"}},
		{"bh-audit-unconfined", []string{"5.22", "5.15"}, []string{"5.5"}},
		{"bh-audit-nnp-off", []string{"5.26"}, []string{"5.5"}},
		{"bh-audit-hardened", nil, nil},
	}
	for _, tc := range tests {
		res := got[ids[tc.name]]
		if res == nil {
			t.Errorf("%s: no results (partial %q, warnings %q)", tc.name, rep.Partial, rep.Warnings)
			continue
		}
		if len(res) < 25 {
			t.Errorf("%s: only %d checks ran", tc.name, len(res))
		}
		for _, id := range tc.fail {
			if r := res[id]; r.Result != Fail {
				t.Errorf("%s: %s = %q, want FAIL (%s)", tc.name, id, r.Result, r.Evidence)
			}
		}
		for _, id := range tc.notFail {
			if r := res[id]; r.Result == Fail {
				t.Errorf("%s: %s FAILs: %s", tc.name, id, r.Evidence)
			}
		}
		if tc.name == "bh-audit-hardened" {
			for id, r := range res {
				if r.Result == Fail {
					t.Errorf("hardened container FAILs %s: %s", id, r.Evidence)
				}
			}
			for _, id := range []string{"4.1", "5.4", "5.11", "5.12", "5.13", "5.14", "5.15", "5.26", "5.27", "5.29"} {
				if res[id].Result != Pass {
					t.Errorf("hardened: %s = %q, want PASS (%s)", id, res[id].Result, res[id].Evidence)
				}
			}
		}
	}
	// The exposure summary names the all-interfaces port and the host-network container.
	var port8080, hostnet, hardened bool
	for _, p := range rep.Exposure.Ports {
		if p.Container.ID == ids["bh-audit-port"] && p.HostPort == "8080" && p.Port == "80/tcp" {
			port8080 = true
		}
		if p.Container.ID == ids["bh-audit-hardened"] {
			hardened = true
		}
	}
	for _, h := range rep.Exposure.HostNetwork {
		hostnet = hostnet || h.ID == ids["bh-audit-hostnet"]
	}
	if !port8080 || !hostnet || hardened {
		t.Errorf("exposure = %+v: want bh-audit-port's 0.0.0.0:8080, bh-audit-hostnet, and not the hardened 127.0.0.1 port", rep.Exposure)
	}
	if len(rep.Partial) != 0 {
		t.Errorf("partial with a working engine: %q", rep.Partial)
	}
}

// vanishingEngine removes one container between the list and its inspection.
type vanishingEngine struct {
	*client.Client
	victim string
}

func (v vanishingEngine) ContainerList(ctx context.Context, o container.ListOptions) ([]container.Summary, error) {
	l, err := v.Client.ContainerList(ctx, o)
	if err == nil {
		dockertest.Remove(v.Client, v.victim)
	}
	return l, err
}

func TestContainerRemovedMidAudit(t *testing.T) {
	c := dockertest.Client(t)
	gone := dockertest.Create(t, c, "bh-audit-vanish", &container.Config{}, &container.HostConfig{})
	stays := dockertest.Create(t, c, "bh-audit-stays", &container.Config{}, &container.HostConfig{})
	rep, err := Run(context.Background(), Options{Root: t.TempDir(), Engine: vanishingEngine{c, gone}, Checks: []string{"5.5"}})
	if err != nil {
		t.Fatal(err)
	}
	got := byContainer(rep)
	if got[gone] != nil {
		t.Errorf("removed container still audited")
	}
	if got[stays]["5.5"].Result != Pass {
		t.Errorf("the other container was not audited: %v", got[stays])
	}
	found := false
	for _, w := range rep.Warnings {
		found = found || (strings.Contains(w, "bh-audit-vanish") && strings.Contains(w, "removed during the audit"))
	}
	if !found {
		t.Errorf("warnings %q do not say the container was removed", rep.Warnings)
	}
}

func TestEngineAbsent(t *testing.T) {
	c, err := client.NewClientWithOpts(client.WithHost("unix:///nonexistent/docker.sock"), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// An engine that is configured but not there: listing fails.
	rep, err := Run(context.Background(), Options{Root: goodRoot(t), Engine: c, APITimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hostResults := 0
	for _, r := range rep.Results {
		if r.Target.Kind == KindHost {
			hostResults++
		}
		if r.Target.Kind == KindContainer {
			t.Errorf("container result without an engine: %+v", r)
		}
	}
	if hostResults < 30 {
		t.Errorf("only %d host results: host checks must still run", hostResults)
	}
	if len(rep.Partial) != 1 || !strings.Contains(rep.Partial[0], "containers: not audited") || !strings.Contains(rep.Partial[0], "--docker-host") {
		t.Errorf("partial = %q, want one clear container-section message", rep.Partial)
	}
}

// slowEngine never answers an inspection of "stuck" before the deadline,
// and fails "broken" with a server error.
type slowEngine struct{ fakeEngine }

func (s slowEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	switch id {
	case "stuck":
		<-ctx.Done()
		return container.InspectResponse{}, ctx.Err()
	case "broken":
		return container.InspectResponse{}, errors.New("Error response from daemon: internal server error")
	}
	return s.fakeEngine.ContainerInspect(ctx, id)
}

func TestSlowAndFailingEngine(t *testing.T) {
	e := slowEngine{fakeEngine{list: []container.Summary{{ID: "stuck", Names: []string{"/stuck"}}, {ID: "broken"}, {ID: "fine"}}}}
	start := time.Now()
	rep, err := Run(context.Background(), Options{Root: t.TempDir(), Engine: e, APITimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second { // hang guard, not a timing test
		t.Fatalf("audit took %v", d)
	}
	got := byContainer(rep)
	if got["fine"] == nil || got["stuck"] != nil || got["broken"] != nil {
		t.Errorf("audited %v", len(got))
	}
	if rep.Summary.Containers != 1 {
		t.Errorf("summary containers = %d", rep.Summary.Containers)
	}
	joined := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(joined, "stuck") || !strings.Contains(joined, "deadline exceeded") || !strings.Contains(joined, "internal server error") {
		t.Errorf("warnings:\n%s", joined)
	}
	if len(rep.Partial) != 1 || !strings.Contains(rep.Partial[0], "2 of 3 could not be inspected") {
		t.Errorf("partial %q", rep.Partial)
	}
}

// mildEngine serves "zz-bad" (the fake's privileged container) and
// "aa-mild" (only missing limits).
type mildEngine struct{ fakeEngine }

func (m mildEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	if id != "aa-mild" {
		return m.fakeEngine.ContainerInspect(ctx, id)
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/aa-mild", State: &container.State{Status: "exited"},
			HostConfig: &container.HostConfig{}},
		Config: &container.Config{Image: "app:1", User: "app"},
	}, nil
}

// TestTableWorstFirst: the container with a CRITICAL FAIL is listed
// before the one with only MEDIUM ones, though its name sorts later.
func TestTableWorstFirst(t *testing.T) {
	e := mildEngine{fakeEngine{list: []container.Summary{{ID: "aa-mild"}, {ID: "zz-bad"}}}}
	rep, err := Run(context.Background(), Options{Root: t.TempDir(), Engine: e, Checks: []string{"4", "5"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := Write(&buf, "table", rep, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	bad, mild := strings.Index(out, "CONTAINER zz-bad"), strings.Index(out, "CONTAINER aa-mild")
	if bad < 0 || mild < 0 || bad > mild {
		t.Fatalf("want zz-bad before aa-mild:\n%s", out)
	}
	// Within a container: FAIL before WARN, CRITICAL before lower severities.
	section := out[bad:mild]
	if i, j := strings.Index(section, "FAIL  CRITICAL"), strings.Index(section, "WARN"); i < 0 || j < 0 || i > j {
		t.Errorf("order inside zz-bad:\n%s", section)
	}
	if !strings.Contains(out, "0.0.0.0:80->80/tcp  container zz-bad") || !strings.Contains(out, "2 containers") {
		t.Errorf("exposure or summary missing:\n%s", out)
	}
	if strings.Contains(out, "\n  PASS ") {
		t.Errorf("PASS rows shown without --all")
	}
}
