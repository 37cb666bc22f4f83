package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/go-connections/nat"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

// BenchmarkAudit200Containers audits 200 created containers on the real
// engine (plus whatever else runs there). Target: under 2 s per audit.
func BenchmarkAudit200Containers(b *testing.B) {
	c := dockertest.Client(b)
	img := dockertest.EnsureImage(b, c)
	ctx := context.Background()
	var mu sync.Mutex
	var ids []string
	b.Cleanup(func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func() { defer func() { <-sem; wg.Done() }(); dockertest.Remove(c, id) }()
		}
		wg.Wait()
	})
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			hc := &container.HostConfig{}
			if i%4 == 0 {
				hc.Privileged = true
				hc.PortBindings = nat.PortMap{"80/tcp": {{HostIP: "0.0.0.0", HostPort: fmt.Sprint(20000 + i)}}}
			}
			resp, err := c.ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"true"},
				Labels: map[string]string{dockertest.Label: "1", "bulkhead-bench": "1"}}, hc, &network.NetworkingConfig{}, nil, fmt.Sprintf("bh-bench-%03d", i))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			ids = append(ids, resp.ID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("create: %v", err)
	}
	b.Logf("created %d containers in %v", len(ids), time.Since(start))
	root := b.TempDir()
	b.ResetTimer()
	var n int
	for b.Loop() {
		rep, err := Run(ctx, Options{Root: root, Engine: c})
		if err != nil {
			b.Fatal(err)
		}
		n = rep.Summary.Containers
	}
	b.ReportMetric(float64(n), "containers")
}

// fakeEngine serves n inspected containers from memory: the audit's own
// cost without the API.
type fakeEngine struct{ list []container.Summary }

func (f fakeEngine) Info(context.Context) (system.Info, error) { return system.Info{}, nil }
func (f fakeEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return f.list, nil
}
func (f fakeEngine) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/" + id, State: &container.State{Status: "running"},
			HostConfig: &container.HostConfig{Privileged: true, CapAdd: []string{"SYS_ADMIN"},
				PortBindings: nat.PortMap{"80/tcp": {{HostIP: "0.0.0.0", HostPort: "80"}}}}},
		Mounts: []container.MountPoint{{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true}},
		Config: &container.Config{Image: "app:1"},
	}, nil
}

func BenchmarkAuditChecksOnly2000(b *testing.B) {
	var f fakeEngine
	for i := range 2000 {
		f.list = append(f.list, container.Summary{ID: fmt.Sprintf("c%063d", i)})
	}
	root := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Root: root, Engine: f}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHostChecksBadRoot(b *testing.B) {
	root := b.TempDir()
	for name, body := range map[string]string{
		"etc/docker/daemon.json":         badDaemonJSON,
		"etc/group":                      "docker:x:999:alice,bob\n",
		"etc/audit/rules.d/docker.rules": allAuditRules,
		"proc/self/mountinfo":            "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
	} {
		writeBenchFile(b, root, name, body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Root: root, Checks: []string{"1", "2", "3"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func writeBenchFile(b *testing.B, root, name, body string) {
	b.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
}
