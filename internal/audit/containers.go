package audit

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

// sensitiveDirs may not be bind-mounted from the host (5.6); paths under
// them count too, except for "/" itself.
var sensitiveDirs = []string{"/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr"}

// runtimeSockets grant control of the host (5.32).
var runtimeSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock"}

// dangerousCaps are capabilities that are close to root on the host.
var dangerousCaps = []string{"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME",
	"NET_ADMIN", "DAC_READ_SEARCH", "DAC_OVERRIDE", "MAC_ADMIN", "MAC_OVERRIDE", "BPF", "PERFMON", "SYSLOG", "SETFCAP"}

func (a *auditor) containerChecks(ctx context.Context) {
	if !a.sel.sectionEnabled("4") && !a.sel.sectionEnabled("5") {
		return
	}
	if a.o.Engine == nil {
		why := "no Docker API"
		if a.o.EngineErr != nil {
			why = a.o.EngineErr.Error()
		}
		a.rep.Partial = append(a.rep.Partial, "containers: not audited: "+why+
			"; the host, daemon-configuration and file checks ran. Start dockerd or pass --docker-host (or DOCKER_HOST) to audit containers")
		return
	}
	lctx, cancel := context.WithTimeout(ctx, a.o.APITimeout)
	list, err := a.o.Engine.ContainerList(lctx, container.ListOptions{All: true})
	cancel()
	if err != nil {
		a.rep.Partial = append(a.rep.Partial, fmt.Sprintf("containers: not audited: listing containers failed: %v; "+
			"the host, daemon-configuration and file checks ran. Check that dockerd is running and --docker-host points at it", err))
		return
	}
	type out struct {
		res  []Result
		exp  Exposure
		warn string
		fail bool
	}
	outs := make([]out, len(list))
	sem := make(chan struct{}, a.o.Parallel)
	var wg sync.WaitGroup
	for i, s := range list {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := s.ID
			if len(s.Names) > 0 {
				name = strings.TrimPrefix(s.Names[0], "/")
			}
			ictx, cancel := context.WithTimeout(ctx, a.o.APITimeout)
			c, err := a.o.Engine.ContainerInspect(ictx, s.ID)
			cancel()
			if err != nil {
				if cerrdefs.IsNotFound(err) {
					outs[i].warn = fmt.Sprintf("container %s (%.12s) was removed during the audit; skipped", name, s.ID)
				} else {
					outs[i].warn = fmt.Sprintf("container %s (%.12s): inspect failed: %v; skipped", name, s.ID, err)
					outs[i].fail = true
				}
				return
			}
			sub := &auditor{o: a.o, sel: a.sel, rep: &Report{}, d: a.d}
			sub.checkContainer(c)
			outs[i] = out{res: sub.rep.Results, exp: sub.rep.Exposure}
		}()
	}
	wg.Wait()
	failed := 0
	for _, o := range outs {
		if o.warn != "" {
			a.warn("%s", o.warn)
		}
		if o.fail {
			failed++
			continue
		}
		if o.res != nil {
			a.rep.Summary.Containers++
		}
		a.rep.Results = append(a.rep.Results, o.res...)
		a.rep.Exposure.Ports = append(a.rep.Exposure.Ports, o.exp.Ports...)
		a.rep.Exposure.HostNetwork = append(a.rep.Exposure.HostNetwork, o.exp.HostNetwork...)
	}
	if failed > 0 {
		a.rep.Partial = append(a.rep.Partial, fmt.Sprintf("containers: %d of %d could not be inspected (see warnings)", failed, len(list)))
	}
}

func (a *auditor) checkContainer(c container.InspectResponse) {
	if c.ContainerJSONBase == nil {
		return
	}
	hc := c.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	cfg := c.Config
	if cfg == nil {
		cfg = &container.Config{}
	}
	state := ""
	if c.State != nil {
		state = c.State.Status
	}
	t := Target{Kind: KindContainer, Name: strings.TrimPrefix(c.Name, "/"), ID: c.ID, Image: cfg.Image, State: state, Labels: cfg.Labels}
	var info []string
	if a.d != nil && a.d.info != nil {
		info = a.d.info.SecurityOptions
	}
	hasSecOpt := func(name string) bool {
		return slices.ContainsFunc(info, func(s string) bool { return strings.HasPrefix(s, "name="+name) })
	}
	secOpt := func(key string) (string, bool) {
		for _, o := range hc.SecurityOpt {
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				k, v, ok = strings.Cut(o, ":")
			}
			if k == key {
				if !ok {
					v = "true"
				}
				return v, true
			}
		}
		return "", false
	}

	// 4.1 user
	switch u := cfg.User; {
	case u == "":
		a.add("4.1", t, Fail, "no user set: the container runs as root (uid 0)")
	case isRootUser(u):
		a.add("4.1", t, Fail, fmt.Sprintf("User=%q is root", u))
	default:
		a.add("4.1", t, Pass, fmt.Sprintf("User=%q", u))
	}

	// 5.2 AppArmor
	aa, aaSet := secOpt("apparmor")
	switch {
	case c.AppArmorProfile == "unconfined" || (aaSet && aa == "unconfined"):
		a.add("5.2", t, Fail, "AppArmor profile unconfined")
	case c.AppArmorProfile != "":
		a.add("5.2", t, Pass, fmt.Sprintf("AppArmor profile %s", c.AppArmorProfile))
	case hasSecOpt("apparmor"):
		a.add("5.2", t, Fail, "AppArmor is enabled on the host but the container has no profile")
	default:
		a.add("5.2", t, Note, "AppArmor is not enabled on this host (not in docker info security options)")
	}

	// 5.3 SELinux
	lbl, _ := secOpt("label")
	switch {
	case !hasSecOpt("selinux"):
		a.add("5.3", t, Note, "SELinux is not enabled in the daemon; label options have no effect")
	case lbl == "disable" || hc.Privileged:
		a.add("5.3", t, Fail, "SELinux labelling disabled (label=disable or privileged)")
	default:
		a.add("5.3", t, Pass, fmt.Sprintf("SELinux enabled; process label %q", c.ProcessLabel))
	}

	// 5.4 capabilities
	var danger, other []string
	for _, cp := range hc.CapAdd {
		n := strings.TrimPrefix(strings.ToUpper(cp), "CAP_")
		if slices.Contains(dangerousCaps, n) {
			danger = append(danger, n)
		} else {
			other = append(other, n)
		}
	}
	drop := "CapDrop=" + cmpOr(strings.Join(hc.CapDrop, ","), "none")
	switch {
	case len(danger) > 0:
		a.add("5.4", t, Fail, fmt.Sprintf("added capabilities %s (%s)", strings.Join(append(danger, other...), ","), drop))
	case len(other) > 0:
		a.add("5.4", t, Warn, fmt.Sprintf("added capabilities %s (%s)", strings.Join(other, ","), drop))
	default:
		a.add("5.4", t, Pass, fmt.Sprintf("no capabilities added (%s)", drop))
	}

	// 5.5 privileged
	if hc.Privileged {
		a.add("5.5", t, Fail, "privileged: every capability, every device, no seccomp or AppArmor confinement")
	} else {
		a.add("5.5", t, Pass, "not privileged")
	}

	// 5.6, 5.20, 5.32 mounts
	var sens, shared, socks []string
	for _, m := range c.Mounts {
		src := path.Clean(m.Source)
		mode := "ro"
		if m.RW {
			mode = "rw"
		}
		desc := fmt.Sprintf("%s:%s (%s)", m.Source, m.Destination, mode)
		if string(m.Type) == "bind" || m.Type == "" {
			switch {
			case slices.Contains(runtimeSockets, src) || src == "/var/run" || src == "/run" || src == "/run/containerd" || src == "/var/run/containerd":
				socks = append(socks, desc)
			case isSensitive(src):
				sens = append(sens, desc)
			}
		}
		if p := string(m.Propagation); p == "shared" || p == "rshared" {
			shared = append(shared, fmt.Sprintf("%s (%s)", desc, p))
		}
	}
	if len(sens) > 0 {
		a.add("5.6", t, Fail, "sensitive host paths mounted: "+strings.Join(sens, ", "))
	} else {
		a.add("5.6", t, Pass, fmt.Sprintf("no sensitive host path mounted (%d mounts)", len(c.Mounts)))
	}
	if len(shared) > 0 {
		a.add("5.20", t, Fail, "shared mount propagation: "+strings.Join(shared, ", "))
	} else {
		a.add("5.20", t, Pass, "no shared mount propagation")
	}
	if len(socks) > 0 {
		a.add("5.32", t, Fail, "container runtime socket mounted: "+strings.Join(socks, ", ")+": the container controls the host")
	} else {
		a.add("5.32", t, Pass, "no Docker or containerd socket mounted")
	}

	// ports: 5.8, 5.9, 5.14 and exposure
	ports := publishedPorts(hc.PortBindings)
	if c.NetworkSettings != nil {
		for _, p := range publishedPorts(c.NetworkSettings.Ports) {
			if !slices.ContainsFunc(ports, func(q pubPort) bool { return q.port == p.port && q.hostIP == p.hostIP }) {
				ports = append(ports, p)
			}
		}
	}
	var priv, all, list []string
	for _, p := range ports {
		s := p.String()
		list = append(list, s)
		if n, err := strconv.Atoi(p.hostPort); err == nil && n > 0 && n < 1024 {
			priv = append(priv, s)
		}
		if p.hostIP == "" || p.hostIP == "0.0.0.0" || p.hostIP == "::" {
			all = append(all, s)
			a.rep.Exposure.Ports = append(a.rep.Exposure.Ports, ExposedPort{Container: t, State: state, HostIP: cmpOr(p.hostIP, "0.0.0.0"), HostPort: p.hostPort, Port: p.port})
		}
	}
	if len(priv) > 0 {
		a.add("5.8", t, Fail, "privileged host ports: "+strings.Join(priv, ", "))
	} else {
		a.add("5.8", t, Pass, "no host port below 1024")
	}
	switch {
	case hc.PublishAllPorts:
		a.add("5.9", t, Warn, "publishes every exposed port (-P): "+cmpOr(strings.Join(list, ", "), "none yet"))
	case len(list) > 0:
		a.add("5.9", t, Info, "published ports: "+strings.Join(list, ", "))
	default:
		a.add("5.9", t, Pass, "no published ports")
	}
	if len(all) > 0 {
		a.add("5.14", t, Fail, "published on every interface: "+strings.Join(all, ", "))
	} else if len(list) > 0 {
		a.add("5.14", t, Pass, "published on specific interfaces only: "+strings.Join(list, ", "))
	} else {
		a.add("5.14", t, Pass, "no published ports")
	}

	// namespaces
	nm := string(hc.NetworkMode)
	if nm == "host" {
		a.add("5.10", t, Fail, "NetworkMode=host: shares the host's network stack; every port it listens on is reachable")
		a.rep.Exposure.HostNetwork = append(a.rep.Exposure.HostNetwork, t)
	} else {
		a.add("5.10", t, Pass, "NetworkMode="+cmpOr(nm, "default"))
	}
	nsCheck := func(id, what, mode string) {
		if mode == "host" {
			a.add(id, t, Fail, what+"=host: shares the host's namespace")
		} else {
			a.add(id, t, Pass, what+"="+cmpOr(mode, "private"))
		}
	}
	nsCheck("5.16", "PidMode", string(hc.PidMode))
	nsCheck("5.17", "IpcMode", string(hc.IpcMode))
	nsCheck("5.21", "UTSMode", string(hc.UTSMode))
	nsCheck("5.31", "UsernsMode", string(hc.UsernsMode))
	if nm == "" || nm == "default" || nm == "bridge" {
		a.add("5.30", t, Warn, "on the default bridge docker0 (NetworkMode="+cmpOr(nm, "default")+")")
	} else {
		a.add("5.30", t, Pass, "NetworkMode="+nm)
	}

	// limits
	if hc.Memory > 0 {
		a.add("5.11", t, Pass, fmt.Sprintf("memory limit %d bytes", hc.Memory))
	} else {
		a.add("5.11", t, Fail, "no memory limit")
	}
	switch {
	case hc.NanoCPUs > 0:
		a.add("5.12", t, Pass, fmt.Sprintf("cpus %.2f", float64(hc.NanoCPUs)/1e9))
	case hc.CPUQuota > 0:
		a.add("5.12", t, Pass, fmt.Sprintf("cpu quota %d per period %d", hc.CPUQuota, hc.CPUPeriod))
	case hc.CPUShares > 0 && hc.CPUShares != 1024:
		a.add("5.12", t, Pass, fmt.Sprintf("cpu shares %d", hc.CPUShares))
	default:
		a.add("5.12", t, Fail, "no CPU shares, quota or --cpus")
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		a.add("5.29", t, Pass, fmt.Sprintf("pids limit %d", *hc.PidsLimit))
	} else {
		a.add("5.29", t, Fail, "no PIDs limit: a fork bomb can exhaust the host")
	}

	if hc.ReadonlyRootfs {
		a.add("5.13", t, Pass, "read-only root filesystem")
	} else {
		a.add("5.13", t, Fail, "writable root filesystem")
	}

	// 5.15 restart policy
	rp := hc.RestartPolicy
	switch name := string(rp.Name); {
	case name == "always" || name == "unless-stopped":
		a.add("5.15", t, Fail, "restart policy "+name+": restarts forever")
	case name == "on-failure" && (rp.MaximumRetryCount <= 0 || rp.MaximumRetryCount > 5):
		a.add("5.15", t, Fail, fmt.Sprintf("restart policy on-failure with %d retries (0 is unlimited)", rp.MaximumRetryCount))
	case name == "on-failure":
		a.add("5.15", t, Pass, fmt.Sprintf("restart policy on-failure:%d", rp.MaximumRetryCount))
	default:
		a.add("5.15", t, Pass, "restart policy "+cmpOr(name, "no"))
	}

	// 5.18 devices
	if len(hc.Devices) > 0 {
		var ds []string
		for _, d := range hc.Devices {
			ds = append(ds, fmt.Sprintf("%s:%s:%s", d.PathOnHost, d.PathInContainer, d.CgroupPermissions))
		}
		a.add("5.18", t, Fail, "host devices: "+strings.Join(ds, ", "))
	} else {
		a.add("5.18", t, Pass, "no host devices")
	}

	// 5.22 seccomp
	sc, _ := secOpt("seccomp")
	switch {
	case sc == "unconfined":
		a.add("5.22", t, Fail, "seccomp=unconfined")
	case hc.Privileged:
		a.add("5.22", t, Fail, "privileged containers run without seccomp")
	case sc != "":
		a.add("5.22", t, Pass, "seccomp profile "+sc)
	default:
		a.add("5.22", t, Pass, "default seccomp profile")
	}

	if hc.CgroupParent != "" {
		a.add("5.25", t, Warn, "cgroup parent "+hc.CgroupParent)
	} else {
		a.add("5.25", t, Pass, "default cgroup parent")
	}

	// 5.26 no-new-privileges
	nnp, nnpSet := secOpt("no-new-privileges")
	// Docker reads the value with strconv.ParseBool: "0", "f", "False"
	// turn it off too, and an unparsable value is refused at create time.
	nnpOn, nnpErr := strconv.ParseBool(nnp)
	switch {
	case nnpSet && nnpErr == nil && nnpOn:
		a.add("5.26", t, Pass, "no-new-privileges set")
	case nnpSet:
		a.add("5.26", t, Fail, "no-new-privileges="+nnp+" turns it off: setuid binaries can raise privileges")
	case a.d != nil && isTrue(a.d.merged.NoNewPrivileges):
		a.add("5.26", t, Pass, "no-new-privileges set daemon-wide")
	default:
		a.add("5.26", t, Fail, "no-new-privileges not set: setuid binaries can raise privileges")
	}

	// 5.27 healthcheck
	hcfg := cfg.Healthcheck
	switch {
	case hcfg == nil || len(hcfg.Test) == 0 || hcfg.Test[0] == "NONE":
		a.add("5.27", t, Warn, "no healthcheck")
	case c.State != nil && c.State.Health != nil && c.State.Health.Status == "unhealthy":
		a.add("5.27", t, Warn, "healthcheck reports unhealthy")
	default:
		// The command is not shown: it may carry a credential (curl -H "Authorization: …").
		interval := "default interval"
		if hcfg.Interval > 0 {
			interval = "every " + hcfg.Interval.String()
		}
		a.add("5.27", t, Pass, fmt.Sprintf("healthcheck %s configured (%s)", hcfg.Test[0], interval))
	}
}

func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "0" || name == "root"
}

func isSensitive(src string) bool {
	for _, d := range sensitiveDirs {
		if src == d || (d != "/" && strings.HasPrefix(src, d+"/")) {
			return true
		}
	}
	return false
}

type pubPort struct{ hostIP, hostPort, port string }

func (p pubPort) String() string {
	ip := cmpOr(p.hostIP, "0.0.0.0")
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return ip + ":" + cmpOr(p.hostPort, "(random)") + "->" + p.port
}

func publishedPorts(pm nat.PortMap) []pubPort {
	var out []pubPort
	for port, bs := range pm {
		for _, b := range bs {
			out = append(out, pubPort{b.HostIP, b.HostPort, string(port)})
		}
	}
	slices.SortFunc(out, func(x, y pubPort) int { return strings.Compare(x.String(), y.String()) })
	return out
}
