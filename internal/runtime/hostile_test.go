package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveUnix serves h on a unix socket in a temp dir and returns the
// DOCKER_HOST-style address.
func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

// fakeEngine answers like a Docker Engine 20.10 with the given containers.
// inspect decides each inspect's status (200 with a body, 404, 500, …).
type fakeEngine struct {
	list    []map[string]any
	inspect func(id string) (int, any)
	images  func() (int, any)
	mu      sync.Mutex
	calls   []string
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Api-Version", "1.41")
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	if i := strings.Index(path[1:], "/"); strings.HasPrefix(path, "/v1.") && i > 0 {
		path = path[i+1:]
	}
	reply := func(code int, v any) {
		w.WriteHeader(code)
		if code >= 400 {
			json.NewEncoder(w).Encode(map[string]string{"message": v.(string)})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case path == "/_ping":
		w.Write([]byte("OK"))
	case path == "/version":
		reply(200, map[string]any{"Version": "20.10.24-fake", "ApiVersion": "1.41"})
	case path == "/containers/json":
		reply(200, f.list)
	case strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/containers/"), "/json")
		reply(f.inspect(id))
	case path == "/images/json":
		if f.images != nil {
			reply(f.images())
			return
		}
		reply(200, []map[string]any{{"Id": "sha256:" + strings.Repeat("e", 64), "RepoTags": []string{"demo:1", "<none>:<none>"}, "RepoDigests": []string{"demo@sha256:" + strings.Repeat("f", 64), "<none>@<none>"}, "Size": 42, "Created": 1700000000, "Containers": -1}})
	default:
		reply(404, "page not found")
	}
}

func listEntry(id, name string) map[string]any {
	return map[string]any{"Id": id, "Names": []string{"/" + name}, "Image": "demo:1", "ImageID": "sha256:" + strings.Repeat("e", 64),
		"Command": "sleep 300", "Created": 1700000000, "State": "running",
		"Ports":  []map[string]any{{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}},
		"Labels": map[string]string{"com.docker.compose.project": "shop"}}
}

func inspectBody(id, name string) map[string]any {
	return map[string]any{
		"Id": id, "Name": "/" + name, "Created": "2026-11-28T10:00:00.5Z", "Path": "sleep", "Args": []string{"300"},
		"Image": "sha256:" + strings.Repeat("e", 64),
		"State": map[string]any{"Status": "running", "Running": true, "Pid": 1234, "StartedAt": "2026-11-28T10:00:01Z"},
		"Config": map[string]any{"Image": "demo:1", "User": "nobody", "Labels": map[string]string{
			"com.docker.compose.project": "shop", "io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "prod"}},
		"HostConfig": map[string]any{"Privileged": true, "CapAdd": []string{"SYS_ADMIN", "NET_ADMIN"}, "NetworkMode": "bridge",
			"PortBindings": map[string]any{"80/tcp": []map[string]string{{"HostIp": "0.0.0.0", "HostPort": "8080"}}}},
		"Mounts": []map[string]any{{"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": true}},
		"NetworkSettings": map[string]any{
			"Networks": map[string]any{"bridge": map[string]any{"IPAddress": "172.17.0.2"}},
			"Ports":    map[string]any{"80/tcp": []map[string]string{{"HostIp": "0.0.0.0", "HostPort": "8080"}}}},
	}
}

func TestDockerFakeEngine(t *testing.T) {
	f := &fakeEngine{
		list: []map[string]any{listEntry(idA, "web"), listEntry(idB, "gone"), listEntry(strings.Repeat("c", 64), "flaky")},
		inspect: func(id string) (int, any) {
			switch id {
			case idA:
				return 200, inspectBody(idA, "web")
			case idB:
				return 404, "No such container: " + id // removed between list and inspect
			}
			return 500, "boom"
		},
	}
	res, err := ScanDocker(context.Background(), DockerOptions{Host: serveUnix(t, f), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine.Version != "20.10.24-fake" {
		t.Errorf("engine = %+v", res.Engine)
	}
	if len(res.Containers) != 2 {
		t.Fatalf("%d containers, want web and flaky (gone skipped)", len(res.Containers))
	}
	web := res.Containers[0]
	if web.Name != "web" || web.User != "nobody" || web.PodName != "web-0" || web.PodNamespace != "prod" || web.ComposeProject != "shop" ||
		strings.Join(web.Command, " ") != "sleep 300" || web.Started.IsZero() || web.State != "running" ||
		web.Security == nil || !web.Security.Privileged || strings.Join(web.Security.CapAdd, ",") != "CAP_NET_ADMIN,CAP_SYS_ADMIN" ||
		len(web.Ports) != 1 || PortString(web.Ports[0]) != "0.0.0.0:8080->80/tcp" ||
		len(web.Mounts) != 1 || web.Mounts[0].Source != "/var/run/docker.sock" ||
		len(web.Networks) != 1 || web.Networks[0].IPAddress != "172.17.0.2" ||
		!slices.Equal(web.ImageDigests, []string{"demo@sha256:" + strings.Repeat("f", 64)}) {
		t.Errorf("web = %+v", web)
	}
	flaky := res.Containers[1]
	if flaky.Name != "flaky" || flaky.Security != nil || len(flaky.Ports) != 1 {
		t.Errorf("flaky (from the list only) = %+v", flaky)
	}
	if !res.Partial {
		t.Error("a failed inspect did not make the result partial")
	}
	joined := strings.Join(res.Warnings, "\n")
	if !strings.Contains(joined, "removed while the inventory ran") || !strings.Contains(joined, "boom") {
		t.Errorf("warnings = %q", res.Warnings)
	}
	if len(res.Images) != 1 || len(res.Images[0].RepoTags) != 1 || res.Images[0].Containers != 2 {
		t.Errorf("images = %+v", res.Images)
	}
}

// TestDockerRemovedOnlyIsNotPartial: a container that went away is no
// missing data.
func TestDockerRemovedOnlyIsNotPartial(t *testing.T) {
	f := &fakeEngine{list: []map[string]any{listEntry(idB, "gone")}, inspect: func(string) (int, any) { return 404, "No such container" }}
	res, err := ScanDocker(context.Background(), DockerOptions{Host: serveUnix(t, f)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || len(res.Containers) != 0 || len(res.Warnings) != 1 {
		t.Fatalf("partial=%v containers=%d warnings=%q", res.Partial, len(res.Containers), res.Warnings)
	}
}

func TestDockerHostile(t *testing.T) {
	hang := func(t *testing.T) string {
		sock := filepath.Join(t.TempDir(), "hang.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c) // accept, read nothing, answer never
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		return "unix://" + sock
	}
	all500 := func(t *testing.T) string {
		return serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			w.Write([]byte(`{"message":"internal server error: disk on fire"}`))
		}))
	}
	list500 := func(t *testing.T) string {
		return serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Api-Version", "1.41")
			if strings.HasSuffix(r.URL.Path, "/_ping") || strings.HasSuffix(r.URL.Path, "/version") {
				w.Write([]byte(`{}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			w.Write([]byte(`{"message":"list failed"}`))
		}))
	}
	listHangs := func(t *testing.T) string {
		return serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Api-Version", "1.41")
			if strings.HasSuffix(r.URL.Path, "/_ping") || strings.HasSuffix(r.URL.Path, "/version") {
				w.Write([]byte(`{}`))
				return
			}
			<-r.Context().Done() // a daemon stuck on its container store
		}))
	}
	cases := []struct {
		name string
		host func(t *testing.T) string
		want []string // substrings of the error
	}{
		{"socket absent", func(t *testing.T) string { return "unix://" + filepath.Join(t.TempDir(), "none.sock") }, []string{"cannot reach the Docker Engine", "DOCKER_HOST"}},
		{"tcp port closed", func(*testing.T) string { return "tcp://127.0.0.1:1" }, []string{"cannot reach the Docker Engine"}},
		{"hangs", hang, []string{"did not answer in time", "--timeout"}},
		{"500 everywhere", all500, []string{"connecting", "500 Internal Server Error"}},
		{"list hangs", listHangs, []string{"listing containers", "did not answer in time"}},
		{"500 on list", list500, []string{"listing containers", "list failed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.host(t)
			start := time.Now()
			_, err := ScanDocker(context.Background(), DockerOptions{Host: host, Timeout: 300 * time.Millisecond})
			if time.Since(start) > 20*time.Second { // hang guard, not a timing assertion
				t.Fatalf("took %v", time.Since(start))
			}
			var de *DockerError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *DockerError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}

			// Discover keeps going with /proc and marks the result partial.
			dir := t.TempDir()
			writeProc(t, dir, []fakeProc{
				{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
				{pid: 200, mntNS: 4026532001, cgroup: "0::/docker/" + idA + "\n", mountinfo: overlayMI("/u")},
				{pid: 300, mntNS: 4026532002, cgroup: "0::/lxc.payload.web01\n", mountinfo: overlayMI("/v")},
			})
			snap, err := Discover(context.Background(), Options{Docker: DockerOptions{Host: host, Timeout: 300 * time.Millisecond}, Proc: ProcOptions{Root: dir, HostRoot: "-"}, Host: "h"})
			if err != nil {
				t.Fatal(err)
			}
			if !snap.Partial || len(snap.Warnings) == 0 || !strings.Contains(snap.Warnings[0], "missing from this inventory") {
				t.Errorf("partial=%v warnings=%q", snap.Partial, snap.Warnings)
			}
			if len(snap.Containers) != 2 {
				t.Fatalf("containers = %+v", snap.Containers)
			}
			// Without the API, a Docker container is not called unmanaged;
			// an LXC one is.
			for _, c := range snap.Containers {
				if c.Unmanaged != (c.Runtime == RuntimeLXC) {
					t.Errorf("%s (%s): unmanaged=%v", c.ID, c.Runtime, c.Unmanaged)
				}
			}
		})
	}
}

// TestDockerInspectHangs: one inspect that never answers costs one
// timeout and leaves that container reported from the list.
func TestDockerInspectHangs(t *testing.T) {
	f := &fakeEngine{list: []map[string]any{listEntry(idA, "web"), listEntry(idB, "stuck")}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, idB) {
			<-r.Context().Done()
			return
		}
		f.ServeHTTP(w, r)
	})
	f.inspect = func(id string) (int, any) { return 200, inspectBody(id, "web") }
	start := time.Now()
	res, err := ScanDocker(context.Background(), DockerOptions{Host: serveUnix(t, h), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if !res.Partial || len(res.Containers) != 2 || !strings.Contains(strings.Join(res.Warnings, ""), "reported from the container list only") {
		t.Fatalf("partial=%v containers=%d warnings=%q", res.Partial, len(res.Containers), res.Warnings)
	}
}

// TestDockerHugeResponse: an endless container list is cut off at the
// response cap, not read into memory.
func TestDockerHugeResponse(t *testing.T) {
	old := maxAPIResponse
	maxAPIResponse = 1 << 20
	t.Cleanup(func() { maxAPIResponse = old })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		if !strings.HasSuffix(r.URL.Path, "/containers/json") {
			w.Write([]byte(`{}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[`))
		entry, _ := json.Marshal(listEntry(idA, "web"))
		for r.Context().Err() == nil {
			if _, err := w.Write(append(entry, ',')); err != nil {
				return
			}
		}
	})
	_, err := ScanDocker(context.Background(), DockerOptions{Host: serveUnix(t, h), Timeout: 20 * time.Second})
	if err == nil || !errors.Is(err, errResponseTooLarge) {
		t.Fatalf("err = %v, want the response cap", err)
	}
}

func TestDiscoverNothing(t *testing.T) {
	_, err := Discover(context.Background(), Options{
		Docker: DockerOptions{Host: "unix://" + filepath.Join(t.TempDir(), "none.sock"), Timeout: time.Second},
		Proc:   ProcOptions{Root: filepath.Join(t.TempDir(), "noproc")},
	})
	if !errors.Is(err, ErrNothing) {
		t.Fatalf("err = %v, want ErrNothing", err)
	}
}

// TestDiscoverMergesAndFlags: a container both sources see is one record
// with PIDs; one only /proc sees is unmanaged.
func TestDiscoverMergesAndFlags(t *testing.T) {
	f := &fakeEngine{list: []map[string]any{listEntry(idA, "web")}, inspect: func(id string) (int, any) { return 200, inspectBody(id, "web") }}
	dir := t.TempDir()
	writeProc(t, dir, []fakeProc{
		{pid: 1, mntNS: hostNS, cgroup: hostCgroups, mountinfo: hostRootMI},
		{pid: 1234, mntNS: 4026532001, cgroup: "0::/docker/" + idA + "\n", mountinfo: overlayMI("/u")},
		{pid: 4321, mntNS: 4026532002, cgroup: "0::/docker/" + idB + "\n", mountinfo: overlayMI("/v")},
	})
	snap, err := Discover(context.Background(), Options{Docker: DockerOptions{Host: serveUnix(t, f)}, Proc: ProcOptions{Root: dir, HostRoot: "-"}, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Partial || len(snap.Containers) != 2 {
		t.Fatalf("partial=%v containers=%+v warnings=%q", snap.Partial, snap.Containers, snap.Warnings)
	}
	byID := map[string]Container{}
	for _, c := range snap.Containers {
		byID[c.ID] = c
	}
	web, stray := byID[idA], byID[idB]
	if web.Unmanaged || len(web.PIDs) != 1 || web.PIDs[0] != 1234 || strings.Join(web.Sources, ",") != "docker-api,proc" || web.RootFS == nil {
		t.Errorf("web = %+v", web)
	}
	// A Docker-shaped cgroup the API does not list: a container of
	// another daemon, or one created behind dockerd's back.
	if !stray.Unmanaged || stray.Runtime != RuntimeDocker {
		t.Errorf("stray = %+v", stray)
	}
	if snap.Docker == nil || snap.Proc == nil || snap.Proc.Contained != 2 {
		t.Errorf("docker=%+v proc=%+v", snap.Docker, snap.Proc)
	}
}

func TestHostNameFromProcRoot(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sys", "kernel"), 0o755)
	os.WriteFile(filepath.Join(dir, "sys", "kernel", "hostname"), []byte("node7\n"), 0o644)
	snap, err := Discover(context.Background(), Options{NoDocker: true, Proc: ProcOptions{Root: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Host != "node7" {
		t.Fatalf("host = %q, want the proc root's hostname node7", snap.Host)
	}
}

// BenchmarkScanDockerFake inventories a fake engine with 200 containers:
// bulkhead's own cost (client, JSON, merge) without a real daemon's.
func BenchmarkScanDockerFake(b *testing.B) {
	f := &fakeEngine{inspect: func(id string) (int, any) { return 200, inspectBody(id, "c-"+id[:8]) }}
	for i := range 200 {
		id := fmt.Sprintf("%064x", i)
		f.list = append(f.list, listEntry(id, "c-"+id[:8]))
	}
	sock := filepath.Join(b.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	defer srv.Close()
	for b.Loop() {
		res, err := ScanDocker(context.Background(), DockerOptions{Host: "unix://" + sock})
		if err != nil || len(res.Containers) != 200 {
			b.Fatalf("%v, %d containers", err, len(res.Containers))
		}
	}
}
