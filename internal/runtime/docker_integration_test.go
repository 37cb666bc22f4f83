package runtime

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
)

func find(s *Snapshot, id string) *Container {
	for i := range s.Containers {
		if s.Containers[i].ID == id {
			return &s.Containers[i]
		}
	}
	return nil
}

// webConfig is a container with something in every inventoried field.
func webConfig(project string, port int) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{
		User:         "1000:1000",
		ExposedPorts: nat.PortSet{"80/tcp": {}},
		Labels: map[string]string{
			LabelComposeProject: project, LabelComposeService: "web",
			LabelPodName: "web-0", LabelPodNamespace: "prod",
		},
	}
	hc := &container.HostConfig{
		PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(port)}}},
		CapAdd:       []string{"NET_ADMIN"},
		Mounts:       []mount.Mount{{Type: mount.TypeTmpfs, Target: "/scratch"}},
	}
	return cfg, hc
}

func TestDockerIntegration(t *testing.T) {
	cli := dockertest.Client(t)
	imageID := dockertest.EnsureImage(t, cli)
	ctx := context.Background()

	project := dockertest.Name("bhinv")
	port := dockertest.FreePort(t)
	cfg, hc := webConfig(project, port)
	hc.Binds = []string{t.TempDir() + ":/data:ro"}
	webName := dockertest.Name("bhinv-web")
	web := dockertest.Create(t, cli, webName, cfg, hc)
	dockertest.Start(t, cli, web)
	// Privileged containers cannot start in this sandbox; created ones
	// are inventoried all the same.
	priv := dockertest.Create(t, cli, dockertest.Name("bhinv-priv"), nil, &container.HostConfig{Privileged: true, NetworkMode: "host"})

	snap, err := Discover(ctx, Options{Docker: DockerOptions{Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Docker == nil || snap.Docker.Version == "" {
		t.Errorf("engine = %+v", snap.Docker)
	}
	c := find(snap, web)
	if c == nil {
		t.Fatalf("container %s not in the inventory; warnings %q", web, snap.Warnings)
	}
	ins, err := cli.ContainerInspect(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"name", c.Name == webName},
		{"runtime", c.Runtime == RuntimeDocker && !c.Unmanaged},
		{"sources", slices.Equal(c.Sources, []string{SourceAPI, SourceProc})},
		{"image", c.Image == dockertest.Image},
		{"image id", c.ImageID == imageID},
		{"command", slices.Equal(c.Command, []string{"sleep", "300"})},
		{"user", c.User == "1000:1000"},
		{"created", !c.Created.IsZero() && time.Since(c.Created) < time.Hour},
		{"started", !c.Started.IsZero() && !c.Started.Before(c.Created)},
		{"state", c.State == "running"},
		{"compose", c.ComposeProject == project && c.ComposeService == "web"},
		{"pod", c.PodName == "web-0" && c.PodNamespace == "prod"},
		{"label", c.Labels[dockertest.Label] == "1"},
		{"network", len(c.Networks) == 1 && c.Networks[0].Name == "bridge" && c.Networks[0].IPAddress != ""},
		{"port", portsContain(c.Ports, fmt.Sprintf("127.0.0.1:%d->80/tcp", port))},
		{"bind mount", mountsContain(c.Mounts, "/data", "bind", false)},
		{"tmpfs mount", mountsContain(c.Mounts, "/scratch", "tmpfs", true)},
		{"capabilities", c.Security != nil && slices.Equal(c.Security.CapAdd, []string{"CAP_NET_ADMIN"}) && !c.Security.Privileged},
		{"pid from /proc", slices.Contains(c.PIDs, ins.State.Pid)},
		{"rootfs", c.RootFS != nil && (ins.GraphDriver.Name != "overlay2" || c.RootFS.FSType == "overlay" && c.RootFS.UpperDir == ins.GraphDriver.Data["UpperDir"])},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: wrong in %+v (security %+v, rootfs %+v)", ch.what, *c, c.Security, c.RootFS)
		}
	}

	p := find(snap, priv)
	if p == nil {
		t.Fatalf("created container %s missing", priv)
	}
	if p.State != "created" || p.Security == nil || !p.Security.Privileged || p.Security.NetworkMode != "host" || len(p.PIDs) != 0 || !p.Started.IsZero() {
		t.Errorf("privileged created container: %+v security %+v", *p, p.Security)
	}

	var img *Image
	for i := range snap.Images {
		if snap.Images[i].ID == imageID {
			img = &snap.Images[i]
		}
	}
	if img == nil || !slices.Contains(img.RepoTags, dockertest.Image) || img.Size <= 0 || img.Created.IsZero() {
		t.Errorf("image %s: %+v", imageID, img)
	}
}

// TestDockerSnapshots: start a container between two inventories → added;
// remove it → removed; recreate one with a new port → changed.
func TestDockerSnapshots(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.EnsureImage(t, cli)
	ctx := context.Background()
	take := func() *Snapshot {
		t.Helper()
		s, err := Discover(ctx, Options{Docker: DockerOptions{Timeout: 30 * time.Second}, Host: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	refIDs := func(r []ContainerRef) []string {
		var ids []string
		for _, x := range r {
			ids = append(ids, x.ID)
		}
		return ids
	}

	s1 := take()
	extra := dockertest.Create(t, cli, dockertest.Name("bhinv-extra"), nil, nil)
	dockertest.Start(t, cli, extra)
	s2 := take()
	d := Diff(s1, s2)
	if !slices.Contains(refIDs(d.Added), extra) {
		t.Errorf("started container %s not reported as added: %+v", extra, d)
	}

	dockertest.Remove(cli, extra)
	s3 := take()
	d = Diff(s2, s3)
	if !slices.Contains(refIDs(d.Removed), extra) {
		t.Errorf("removed container %s not reported as removed: %+v", extra, d)
	}

	name := dockertest.Name("bhinv-recreate")
	port1, port2 := dockertest.FreePort(t), dockertest.FreePort(t)
	cfg, hc := webConfig("p", port1)
	old := dockertest.Create(t, cli, name, cfg, hc)
	dockertest.Start(t, cli, old)
	s4 := take()
	dockertest.Remove(cli, old)
	cfg, hc = webConfig("p", port2)
	hc.Privileged = true // created only: privileged cannot start here
	hc.CapAdd = append(hc.CapAdd, "SYS_PTRACE")
	cfg.User = "root"
	recreated := dockertest.Create(t, cli, name, cfg, hc)
	s5 := take()
	d = Diff(s4, s5)
	var ch *ContainerChange
	for i := range d.Changed {
		if d.Changed[i].ID == recreated {
			ch = &d.Changed[i]
		}
	}
	if ch == nil {
		t.Fatalf("recreated container not reported as changed: %+v", d)
	}
	if ch.PreviousID != old || slices.Contains(refIDs(d.Added), recreated) || slices.Contains(refIDs(d.Removed), old) {
		t.Errorf("recreate: %+v", d)
	}
	fields := map[string]FieldChange{}
	for _, f := range ch.Fields {
		fields[f.Field] = f
	}
	if f := fields["ports"]; !slices.Contains(f.Added, fmt.Sprintf("127.0.0.1:%d->80/tcp", port2)) || !slices.Contains(f.Removed, fmt.Sprintf("127.0.0.1:%d->80/tcp", port1)) {
		t.Errorf("ports change = %+v", f)
	}
	if f := fields["security.privileged"]; f.After != "true" || !f.Privilege {
		t.Errorf("privileged change = %+v", f)
	}
	if f := fields["security.capAdd"]; !slices.Equal(f.Added, []string{"CAP_SYS_PTRACE"}) {
		t.Errorf("capAdd change = %+v", f)
	}
	if f := fields["user"]; f.Before != "1000:1000" || f.After != "root" {
		t.Errorf("user change = %+v", f)
	}
	if f := fields["state"]; f.Before != "running" || f.After != "created" {
		t.Errorf("state change = %+v", f)
	}
}

func portsContain(ps []Port, want string) bool {
	for _, p := range ps {
		if PortString(p) == want {
			return true
		}
	}
	return false
}

func mountsContain(ms []Mount, dst, typ string, rw bool) bool {
	for _, m := range ms {
		if m.Destination == dst && m.Type == typ && m.RW == rw {
			return true
		}
	}
	return false
}

// BenchmarkScanDocker inventories the real engine with 20 extra created
// containers.
func BenchmarkScanDocker(b *testing.B) {
	cli := dockertest.Client(b)
	dockertest.EnsureImage(b, cli)
	for range 20 {
		dockertest.Create(b, cli, dockertest.Name("bhinv-bench"), nil, nil)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := ScanDocker(context.Background(), DockerOptions{Timeout: 30 * time.Second})
		if err != nil || len(res.Containers) < 20 {
			b.Fatalf("%v (%d containers)", err, len(res.Containers))
		}
	}
}
