package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/redact"
)

// Well-known labels surfaced as fields.
const (
	LabelComposeProject = "com.docker.compose.project"
	LabelComposeService = "com.docker.compose.service"
	LabelPodName        = "io.kubernetes.pod.name"
	LabelPodNamespace   = "io.kubernetes.pod.namespace"
)

// DockerOptions configures the Docker Engine part of an inventory.
type DockerOptions struct {
	// Host is the daemon address (unix:///var/run/docker.sock,
	// tcp://host:2376). Empty means DOCKER_HOST, else the platform default.
	// TLS comes from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
	Host string
	// Timeout bounds each API call (default 10s): a daemon that accepts
	// and never answers costs at most this long per call.
	Timeout time.Duration
	// Workers is how many containers are inspected at once (default 8).
	Workers int
}

// DockerResult is what the Docker Engine said.
type DockerResult struct {
	Engine     Engine
	Containers []Container
	Images     []Image
	// Warnings are per-container problems (removed between list and
	// inspect, an inspect that failed); Partial is set when one of them
	// means data is missing (not for containers that simply went away).
	Warnings []string
	Partial  bool
}

// DockerError is a failure to talk to the Docker Engine at all.
type DockerError struct {
	Host string
	Op   string // "connecting", "listing containers", "listing images"
	Err  error
}

func (e *DockerError) Error() string {
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded):
		return fmt.Sprintf("Docker Engine at %s did not answer in time (%s): %v; check the daemon or raise --timeout", e.Host, e.Op, e.Err)
	case client.IsErrConnectionFailed(e.Err):
		return fmt.Sprintf("cannot reach the Docker Engine at %s: %v; is dockerd running? Set --docker-host or DOCKER_HOST to its address", e.Host, e.Err)
	}
	return fmt.Sprintf("Docker Engine at %s: %s: %v", e.Host, e.Op, e.Err)
}

func (e *DockerError) Unwrap() error { return e.Err }

// maxAPIResponse bounds one Docker API response body; a list of ten
// thousand containers is a few tens of MB. A variable for tests.
var maxAPIResponse int64 = 256 << 20

// errResponseTooLarge is returned for a response over maxAPIResponse.
var errResponseTooLarge = errors.New("Docker API response too large")

// NewDockerClient builds an API client from the environment (DOCKER_HOST,
// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION), with host
// overriding DOCKER_HOST when set. The API version is negotiated, and no
// response body may exceed maxAPIResponse. Call the returned func to close.
func NewDockerClient(host string) (*client.Client, func(), error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	// Build once to let the library configure transport, socket and TLS
	// from the environment; then use that configuration through a
	// transport that caps response sizes.
	base, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	hc := base.HTTPClient()
	hc.Transport = limitTransport{hc.Transport}
	scheme := "http"
	if os.Getenv(client.EnvOverrideCertPath) != "" { // the condition under which FromEnv configures TLS
		scheme = "https"
	}
	cli, err := client.NewClientWithOpts(append(opts, client.WithHost(base.DaemonHost()), client.WithHTTPClient(hc), client.WithScheme(scheme))...)
	if err != nil {
		base.Close()
		return nil, nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	return cli, func() { cli.Close(); base.Close() }, nil
}

// limitTransport caps each response body at maxAPIResponse.
type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxAPIResponse}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n == 0 && err != nil {
			return 0, err // the body ended exactly at the limit
		}
		return 0, fmt.Errorf("%w (over %d MB)", errResponseTooLarge, maxAPIResponse>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ScanDocker lists every container (all states) and image of the Docker
// Engine and inspects each container. A container removed between list and
// inspect is skipped with a warning. An error is returned only when the
// engine cannot be used at all (absent, hanging, failing the list).
func ScanDocker(ctx context.Context, opts DockerOptions) (*DockerResult, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	cli, closeClient, err := NewDockerClient(opts.Host)
	if err != nil {
		return nil, err
	}
	defer closeClient()
	host := cli.DaemonHost()

	call := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, opts.Timeout) }

	res := &DockerResult{Engine: Engine{Host: host}}
	cctx, cancel := call()
	ping, err := cli.Ping(cctx)
	cancel()
	if err != nil {
		return nil, &DockerError{Host: host, Op: "connecting", Err: err}
	}
	res.Engine.APIVersion = cli.ClientVersion()
	if ping.APIVersion != "" && res.Engine.APIVersion == "" {
		res.Engine.APIVersion = ping.APIVersion
	}

	cctx, cancel = call()
	sv, err := cli.ServerVersion(cctx)
	cancel()
	if err == nil {
		res.Engine.Version = sv.Version
	}

	cctx, cancel = call()
	list, err := cli.ContainerList(cctx, container.ListOptions{All: true})
	cancel()
	if err != nil {
		return nil, &DockerError{Host: host, Op: "listing containers", Err: err}
	}

	cctx, cancel = call()
	imgs, err := cli.ImageList(cctx, image.ListOptions{All: false})
	cancel()
	digests := map[string][]string{}
	if err != nil {
		res.Partial = true
		res.Warnings = append(res.Warnings, (&DockerError{Host: host, Op: "listing images", Err: err}).Error())
	} else {
		for _, im := range imgs {
			out := imageOf(im)
			res.Images = append(res.Images, out)
			digests[im.ID] = out.RepoDigests
		}
		sort.Slice(res.Images, func(i, j int) bool { return res.Images[i].ID < res.Images[j].ID })
	}

	// Inspect in parallel, bounded; results keep list order.
	type slot struct {
		c    Container
		keep bool
		warn string
		part bool
	}
	slots := make([]slot, len(list))
	sem := make(chan struct{}, opts.Workers)
	var wg sync.WaitGroup
	for i, s := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := call()
			defer cancel()
			ins, err := cli.ContainerInspect(cctx, s.ID)
			switch {
			case err == nil:
				slots[i] = slot{c: containerOf(s, &ins), keep: true}
			case cerrdefs.IsNotFound(err):
				slots[i] = slot{warn: fmt.Sprintf("container %s (%s) was removed while the inventory ran; skipped", shortID(s.ID), firstName(s.Names))}
			default:
				// Keep what the list said; the inspect-only fields are missing.
				slots[i] = slot{c: containerOf(s, nil), keep: true, part: true,
					warn: fmt.Sprintf("inspecting container %s (%s): %v; reported from the container list only", shortID(s.ID), firstName(s.Names), err)}
			}
		}()
	}
	wg.Wait()
	for _, s := range slots {
		if s.warn != "" {
			res.Warnings = append(res.Warnings, s.warn)
		}
		if s.part {
			res.Partial = true
		}
		if !s.keep {
			continue
		}
		if d := digests[s.c.ImageID]; len(d) > 0 {
			s.c.ImageDigests = append([]string(nil), d...)
		}
		res.Containers = append(res.Containers, s.c)
	}
	// The engine leaves an image's container count at -1 unless asked to
	// compute it (a slow disk-usage call); count from what we listed.
	uses := map[string]int64{}
	for _, c := range res.Containers {
		uses[c.ImageID]++
	}
	for i := range res.Images {
		if res.Images[i].Containers < 0 {
			res.Images[i].Containers = uses[res.Images[i].ID]
		}
	}
	return res, nil
}

func imageOf(im image.Summary) Image {
	out := Image{ID: im.ID, Size: im.Size, Containers: im.Containers}
	for _, t := range im.RepoTags {
		if t != "<none>:<none>" {
			out.RepoTags = append(out.RepoTags, t)
		}
	}
	for _, d := range im.RepoDigests {
		if d != "<none>@<none>" {
			out.RepoDigests = append(out.RepoDigests, d)
		}
	}
	sort.Strings(out.RepoTags)
	sort.Strings(out.RepoDigests)
	if im.Created > 0 {
		out.Created = time.Unix(im.Created, 0).UTC()
	}
	return out
}

// containerOf merges a list entry and, when available, its inspect result.
func containerOf(s container.Summary, ins *container.InspectResponse) Container {
	c := Container{
		ID:      s.ID,
		Name:    firstName(s.Names),
		Runtime: RuntimeDocker,
		Sources: []string{SourceAPI},
		Image:   s.Image,
		ImageID: s.ImageID,
		State:   string(s.State),
		Labels:  s.Labels,
	}
	if s.Created > 0 {
		c.Created = time.Unix(s.Created, 0).UTC()
	}
	if s.Command != "" {
		c.Command = redact.Args([]string{s.Command})
	}
	for _, p := range s.Ports {
		if p.PublicPort == 0 {
			continue
		}
		c.Ports = append(c.Ports, Port{HostIP: p.IP, HostPort: fmt.Sprint(p.PublicPort), ContainerPort: fmt.Sprint(p.PrivatePort), Protocol: p.Type})
	}
	for _, m := range s.Mounts {
		c.Mounts = append(c.Mounts, mountOf(m))
	}
	if s.NetworkSettings != nil {
		for name, ep := range s.NetworkSettings.Networks {
			n := Network{Name: name}
			if ep != nil {
				n.IPAddress, n.MacAddress = ep.IPAddress, ep.MacAddress
			}
			c.Networks = append(c.Networks, n)
		}
	}

	if ins != nil && ins.ContainerJSONBase != nil {
		b := ins.ContainerJSONBase
		c.Name = strings.TrimPrefix(b.Name, "/")
		c.ImageID = b.Image
		if t, err := time.Parse(time.RFC3339Nano, b.Created); err == nil {
			c.Created = t.UTC()
		}
		// Masked before it is stored, diffed or sent anywhere: commands
		// carry tokens and passwords ("--api-token=...").
		c.Command = redact.Args(append([]string{b.Path}, b.Args...))
		if b.State != nil {
			c.State = b.State.Status
			if t, err := time.Parse(time.RFC3339Nano, b.State.StartedAt); err == nil && t.Year() > 1 {
				c.Started = t.UTC()
			}
		}
		if ins.Config != nil {
			c.User = ins.Config.User
			c.Labels = ins.Config.Labels
			if ins.Config.Image != "" {
				c.Image = ins.Config.Image
			}
		}
		if h := b.HostConfig; h != nil {
			sec := &Security{
				Privileged:     h.Privileged,
				CapAdd:         capNames(h.CapAdd),
				CapDrop:        capNames(h.CapDrop),
				SecurityOpt:    sortedCopy(h.SecurityOpt),
				NetworkMode:    string(h.NetworkMode),
				PidMode:        string(h.PidMode),
				IpcMode:        string(h.IpcMode),
				UTSMode:        string(h.UTSMode),
				UsernsMode:     string(h.UsernsMode),
				ReadonlyRootfs: h.ReadonlyRootfs,
			}
			for _, d := range h.Devices {
				sec.Devices = append(sec.Devices, d.PathOnHost+":"+d.PathInContainer+":"+d.CgroupPermissions)
			}
			c.Security = sec
		}
		c.Mounts = nil
		for _, m := range ins.Mounts {
			c.Mounts = append(c.Mounts, mountOf(m))
		}
		if ns := ins.NetworkSettings; ns != nil {
			c.Networks = nil
			for name, ep := range ns.Networks {
				n := Network{Name: name}
				if ep != nil {
					n.IPAddress, n.MacAddress = ep.IPAddress, ep.MacAddress
				}
				c.Networks = append(c.Networks, n)
			}
			if len(ns.Ports) > 0 {
				c.Ports = nil
				for cp, binds := range ns.Ports {
					for _, hb := range binds {
						c.Ports = append(c.Ports, Port{HostIP: hb.HostIP, HostPort: hb.HostPort, ContainerPort: cp.Port(), Protocol: cp.Proto()})
					}
				}
			}
		}
		// A stopped container has no live port bindings; its configured
		// ones still say what it will publish when started.
		if len(c.Ports) == 0 && b.HostConfig != nil {
			for cp, binds := range b.HostConfig.PortBindings {
				for _, hb := range binds {
					hp := hb.HostPort
					c.Ports = append(c.Ports, Port{HostIP: hb.HostIP, HostPort: hp, ContainerPort: cp.Port(), Protocol: cp.Proto()})
				}
			}
		}
	}
	setLabelFields(&c)
	normalize(&c)
	return c
}

func mountOf(m container.MountPoint) Mount {
	return Mount{Type: string(m.Type), Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: string(m.Propagation)}
}

// setLabelFields copies the compose and Kubernetes labels into their fields.
func setLabelFields(c *Container) {
	c.ComposeProject = c.Labels[LabelComposeProject]
	c.ComposeService = c.Labels[LabelComposeService]
	c.PodName = c.Labels[LabelPodName]
	c.PodNamespace = c.Labels[LabelPodNamespace]
}

// normalize sorts a container's lists so that equal containers compare and
// serialise equal.
func normalize(c *Container) {
	sort.Slice(c.Networks, func(i, j int) bool { return c.Networks[i].Name < c.Networks[j].Name })
	sort.Slice(c.Ports, func(i, j int) bool { return portKey(c.Ports[i]) < portKey(c.Ports[j]) })
	sort.Slice(c.Mounts, func(i, j int) bool { return c.Mounts[i].Destination < c.Mounts[j].Destination })
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
}

func portKey(p Port) string {
	return fmt.Sprintf("%s|%08s|%08s|%s", p.HostIP, p.HostPort, p.ContainerPort, p.Protocol)
}

// capNames normalises capability names to the kernel's spelling
// (CAP_NET_ADMIN): engines before 20.10 keep what the user typed
// ("net_admin", "NET_ADMIN"), later ones the canonical form. "ALL" stays.
func capNames(caps []string) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		out = append(out, c)
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.TrimPrefix(names[0], "/")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
