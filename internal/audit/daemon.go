package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/system"

	"github.com/bulkhead-sec/bulkhead/internal/redact"
)

// Engine is the part of the Docker Engine API the audit uses;
// *client.Client implements it.
type Engine interface {
	Info(ctx context.Context) (system.Info, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
}

const daemonJSON = "/etc/docker/daemon.json"

// daemonState is what we know about the daemon: its daemon.json, its
// command line and `docker info`, any of which may be missing.
type daemonState struct {
	file     *DaemonConfig // nil: no daemon.json
	fileErr  error
	flags    *DaemonConfig // nil: no dockerd process found
	args     []string
	pid      int
	info     *system.Info // nil: no API
	merged   DaemonConfig
	anything bool
}

func (a *auditor) collectDaemon(ctx context.Context) {
	h := hostFS{a.o.Root}
	d := &daemonState{}
	a.d = d
	switch b, err := h.readFile(daemonJSON); {
	case err == nil:
		d.file, d.fileErr = ParseDaemonConfig(b)
		if d.fileErr != nil {
			a.warn("%s: %v; daemon checks use the command line and docker info only", daemonJSON, d.fileErr)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		d.fileErr = err
		a.warn("cannot read %s under %s: %v", daemonJSON, a.o.Root, err)
	}
	d.pid, d.args = findDockerd(h, a)
	if d.pid > 0 {
		d.flags = &DaemonConfig{}
		ParseDockerdArgs(d.args, d.flags)
	}
	if a.o.Engine != nil {
		ictx, cancel := context.WithTimeout(ctx, a.o.APITimeout)
		info, err := a.o.Engine.Info(ictx)
		cancel()
		if err != nil {
			a.warn("docker info: %v", err)
		} else {
			d.info = &info
		}
	}
	if d.file != nil {
		d.merged = *d.file
	}
	if d.flags != nil {
		mergeFlags(&d.merged, d.flags)
	}
	d.anything = d.file != nil || d.flags != nil || d.info != nil
}

// mergeFlags lays command-line settings over daemon.json.
func mergeFlags(dst, f *DaemonConfig) {
	setb := func(d **bool, s *bool) {
		if s != nil {
			*d = s
		}
	}
	sets := func(d *string, s string) {
		if s != "" {
			*d = s
		}
	}
	setb(&dst.ICC, f.ICC)
	setb(&dst.LiveRestore, f.LiveRestore)
	setb(&dst.TLS, f.TLS)
	setb(&dst.TLSVerify, f.TLSVerify)
	setb(&dst.NoNewPrivileges, f.NoNewPrivileges)
	setb(&dst.Experimental, f.Experimental)
	setb(&dst.UserlandProxy, f.UserlandProxy)
	setb(&dst.IPTables, f.IPTables)
	sets(&dst.UsernsRemap, f.UsernsRemap)
	sets(&dst.TLSCACert, f.TLSCACert)
	sets(&dst.TLSCert, f.TLSCert)
	sets(&dst.TLSKey, f.TLSKey)
	sets(&dst.LogDriver, f.LogDriver)
	sets(&dst.LogLevel, f.LogLevel)
	sets(&dst.StorageDriver, f.StorageDriver)
	sets(&dst.CgroupParent, f.CgroupParent)
	sets(&dst.SeccompProfile, f.SeccompProfile)
	sets(&dst.DataRoot, f.DataRoot)
	dst.Hosts = append(dst.Hosts, f.Hosts...)
	dst.InsecureRegistries = append(dst.InsecureRegistries, f.InsecureRegistries...)
	dst.AuthorizationPlugins = append(dst.AuthorizationPlugins, f.AuthorizationPlugins...)
	if len(f.DefaultUlimits) > 0 {
		if dst.DefaultUlimits == nil {
			dst.DefaultUlimits = map[string]any{}
		}
		for k, v := range f.DefaultUlimits {
			dst.DefaultUlimits[k] = v
		}
	}
}

// maxProcEntries bounds the /proc scan for dockerd.
const maxProcEntries = 1 << 17

// findDockerd looks for a process named dockerd under <root>/proc and
// returns its pid and arguments (without argv[0]).
func findDockerd(h hostFS, a *auditor) (int, []string) {
	dir, err := os.Open(h.real("/proc"))
	if err != nil {
		return 0, nil
	}
	defer dir.Close()
	names, err := dir.Readdirnames(maxProcEntries)
	if err != nil && len(names) == 0 {
		return 0, nil
	}
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	for _, pid := range pids {
		base := "/proc/" + strconv.Itoa(pid)
		comm, err := h.readFile(base + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
			continue
		}
		cmd, err := h.readFile(base + "/cmdline")
		if err != nil {
			a.warn("dockerd is pid %d but its command line cannot be read: %v", pid, err)
			return pid, nil
		}
		parts := strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00")
		if len(parts) > 0 {
			parts = parts[1:]
		}
		return pid, parts
	}
	return 0, nil
}

// source says where the daemon settings came from, for evidence.
func (d *daemonState) source() string {
	var s []string
	if d.file != nil {
		s = append(s, "daemon.json")
	}
	if d.flags != nil {
		if len(d.args) == 0 {
			s = append(s, fmt.Sprintf("dockerd (pid %d) with no flags", d.pid))
		} else {
			s = append(s, fmt.Sprintf("dockerd (pid %d) flags %q", d.pid, strings.Join(maskArgs(d.args), " ")))
		}
	}
	if d.info != nil {
		s = append(s, "docker info")
	}
	if len(s) == 0 {
		return "nothing known about the daemon"
	}
	return "from " + strings.Join(s, ", ")
}

func boolStr(b *bool) string {
	if b == nil {
		return "unset"
	}
	return strconv.FormatBool(*b)
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

var remoteLogDrivers = []string{"syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"}

func (a *auditor) daemonChecks() {
	if !a.sel.sectionEnabled("2") && !a.sel.enabled("5.1") {
		return
	}
	d := a.d
	t := Target{Kind: KindDaemon}
	if !d.anything {
		a.rep.Partial = append(a.rep.Partial, fmt.Sprintf(
			"daemon: no %s, no dockerd process under %s/proc and no Docker API; daemon checks not evaluated", daemonJSON, strings.TrimSuffix(a.o.Root, "/")))
		for _, c := range catalogue {
			if strings.HasPrefix(c.ID, "2.") || c.ID == "5.1" {
				a.add(c.ID, t, Note, "nothing known about the daemon on this host")
			}
		}
		return
	}
	c := d.merged
	src := d.source()
	ev := func(s string, args ...any) string { return fmt.Sprintf(s, args...) + " (" + src + ")" }

	if isFalse(c.ICC) {
		a.add("2.2", t, Pass, ev("icc=false"))
	} else {
		a.add("2.2", t, Fail, ev("icc=%s: containers on the default bridge can reach each other (default true)", boolStr(c.ICC)))
	}

	switch lvl := strings.ToLower(c.LogLevel); lvl {
	case "", "info":
		a.add("2.3", t, Pass, ev("log-level=%s", cmpOr(lvl, "unset (info)")))
	case "debug":
		a.add("2.3", t, Fail, ev("log-level=debug logs request details"))
	default:
		a.add("2.3", t, Warn, ev("log-level=%s loses events info level would keep", lvl))
	}

	if isFalse(c.IPTables) {
		a.add("2.4", t, Fail, ev("iptables=false: Docker cannot manage the firewall rules for published ports"))
	} else {
		a.add("2.4", t, Pass, ev("iptables=%s", boolStr(c.IPTables)))
	}

	insecure := slices.Clone(c.InsecureRegistries)
	if d.info != nil && d.info.RegistryConfig != nil {
		for _, ic := range d.info.RegistryConfig.IndexConfigs {
			if ic != nil && !ic.Secure && !slices.Contains(insecure, ic.Name) {
				insecure = append(insecure, ic.Name)
			}
		}
		for _, n := range d.info.RegistryConfig.InsecureRegistryCIDRs {
			if s := n.String(); s != "127.0.0.0/8" && s != "::1/128" && !slices.Contains(insecure, s) {
				insecure = append(insecure, s)
			}
		}
	}
	slices.Sort(insecure)
	insecure = slices.Compact(insecure)
	if len(insecure) > 0 {
		a.add("2.5", t, Fail, ev("insecure registries: %s", strings.Join(insecure, ", ")))
	} else {
		a.add("2.5", t, Pass, ev("no insecure registries"))
	}

	driver := c.StorageDriver
	if d.info != nil && d.info.Driver != "" {
		driver = d.info.Driver
	}
	if driver == "aufs" {
		a.add("2.6", t, Fail, ev("storage driver aufs"))
	} else {
		a.add("2.6", t, Pass, ev("storage driver %s", cmpOr(driver, "unset (default overlay2)")))
	}

	var tcp []string
	for _, h := range c.Hosts {
		if strings.HasPrefix(h, "tcp://") || strings.HasPrefix(h, "http://") || (!strings.Contains(h, "://") && strings.Contains(h, ":")) {
			tcp = append(tcp, h)
		}
	}
	verified := isTrue(c.TLSVerify) && c.TLSCACert != "" && c.TLSCert != "" && c.TLSKey != ""
	for _, h := range tcp {
		a.rep.Exposure.DaemonTCP = append(a.rep.Exposure.DaemonTCP, DaemonSocket{Address: h, TLSVerify: verified})
	}
	switch {
	case len(tcp) == 0:
		a.add("2.7", t, Pass, ev("no TCP socket (hosts: %s)", cmpOr(strings.Join(c.Hosts, ", "), "default unix socket")))
	case verified:
		a.add("2.7", t, Pass, ev("TCP %s with tlsverify, tlscacert, tlscert and tlskey", strings.Join(tcp, ", ")))
	default:
		a.add("2.7", t, Fail, ev("TCP %s without TLS client verification (tls=%s tlsverify=%s, tlscacert %q, tlscert %q, tlskey %q): anyone who reaches the port is root on this host",
			strings.Join(tcp, ", "), boolStr(c.TLS), boolStr(c.TLSVerify), c.TLSCACert, c.TLSCert, c.TLSKey))
	}

	if len(c.DefaultUlimits) > 0 {
		keys := slices.Sorted(maps.Keys(c.DefaultUlimits))
		a.add("2.8", t, Pass, ev("default-ulimits set: %s", strings.Join(keys, ", ")))
	} else {
		a.add("2.8", t, Info, ev("no default-ulimits; containers inherit the daemon's limits"))
	}

	userns := c.UsernsRemap
	if d.info != nil && userns == "" {
		for _, o := range d.info.SecurityOptions {
			if o == "name=userns" {
				userns = "enabled (docker info)"
			}
		}
	}
	if userns != "" {
		a.add("2.9", t, Pass, ev("userns-remap=%s", userns))
	} else {
		a.add("2.9", t, Warn, ev("userns-remap unset: root in a container is root on the host"))
	}

	if c.CgroupParent != "" {
		a.add("2.10", t, Info, ev("cgroup-parent=%s; confirm it is intended", c.CgroupParent))
	} else {
		a.add("2.10", t, Pass, ev("cgroup-parent unset (default)"))
	}

	authz := slices.Clone(c.AuthorizationPlugins)
	if d.info != nil {
		authz = append(authz, d.info.Plugins.Authorization...)
	}
	slices.Sort(authz)
	authz = slices.Compact(authz)
	if len(authz) > 0 {
		a.add("2.12", t, Pass, ev("authorization plugins: %s", strings.Join(authz, ", ")))
	} else {
		a.add("2.12", t, Warn, ev("no authorization plugin: every client of the socket may do everything"))
	}

	logDriver := c.LogDriver
	if d.info != nil && d.info.LoggingDriver != "" {
		logDriver = d.info.LoggingDriver
	}
	if slices.Contains(remoteLogDrivers, logDriver) {
		a.add("2.13", t, Pass, ev("log-driver=%s", logDriver))
	} else {
		a.add("2.13", t, Warn, ev("log-driver=%s keeps logs on this host only", cmpOr(logDriver, "unset (json-file)")))
	}

	if isTrue(c.NoNewPrivileges) {
		a.add("2.14", t, Pass, ev("no-new-privileges=true"))
	} else {
		a.add("2.14", t, Fail, ev("no-new-privileges=%s: setuid binaries in containers can gain privileges", boolStr(c.NoNewPrivileges)))
	}

	live := isTrue(c.LiveRestore) || (d.info != nil && d.info.LiveRestoreEnabled)
	if live {
		a.add("2.15", t, Pass, ev("live-restore enabled"))
	} else {
		a.add("2.15", t, Fail, ev("live-restore=%s: restarting the daemon stops every container", boolStr(c.LiveRestore)))
	}

	if isFalse(c.UserlandProxy) {
		a.add("2.16", t, Pass, ev("userland-proxy=false"))
	} else {
		a.add("2.16", t, Fail, ev("userland-proxy=%s (default true)", boolStr(c.UserlandProxy)))
	}

	seccomp := c.SeccompProfile
	infoSeccomp := ""
	if d.info != nil {
		for _, o := range d.info.SecurityOptions {
			if strings.HasPrefix(o, "name=seccomp") {
				infoSeccomp = o
			}
		}
	}
	switch {
	case seccomp == "unconfined":
		a.add("2.17", t, Fail, ev("seccomp-profile=unconfined disables seccomp for every container"))
	case seccomp != "":
		a.add("2.17", t, Pass, ev("seccomp-profile=%s", seccomp))
	case infoSeccomp != "":
		a.add("2.17", t, Pass, ev("default seccomp profile (%s)", infoSeccomp))
	default:
		a.add("2.17", t, Note, ev("seccomp-profile unset; the default profile applies where the kernel supports seccomp"))
	}

	exp := isTrue(c.Experimental) || (d.info != nil && d.info.ExperimentalBuild)
	if exp {
		a.add("2.18", t, Fail, ev("experimental features enabled"))
	} else {
		a.add("2.18", t, Pass, ev("experimental=%s", boolStr(c.Experimental)))
	}

	switch {
	case d.info == nil:
		a.add("5.1", t, Note, "swarm state unknown without the Docker API")
	case d.info.Swarm.LocalNodeState == "active":
		a.add("5.1", t, Warn, fmt.Sprintf("swarm mode active (node %s)", d.info.Swarm.NodeID))
	default:
		a.add("5.1", t, Pass, fmt.Sprintf("swarm %s", cmpOr(string(d.info.Swarm.LocalNodeState), "inactive")))
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// dataRoot is the daemon's data directory on the host.
func (a *auditor) dataRoot() string {
	if a.d.info != nil && a.d.info.DockerRootDir != "" {
		return path.Clean(a.d.info.DockerRootDir)
	}
	if a.d.merged.DataRoot != "" {
		return path.Clean(a.d.merged.DataRoot)
	}
	return "/var/lib/docker"
}

// maskArgs hides the values of dockerd flags that may carry credentials
// (--log-opt splunk-token=…, anything named token, password or secret) and
// the password of any URL (--http-proxy=http://user:pw@proxy,
// --registry-mirror https://user:pw@mirror).
func maskArgs(args []string) []string {
	out := make([]string, len(args))
	hideNext := false
	for i, a := range args {
		a = redact.Userinfo(a)
		if hideNext {
			out[i], hideNext = maskValue(a), false
			continue
		}
		out[i] = a
		name, val, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !sensitiveFlag(name) {
			continue
		}
		if has {
			out[i] = a[:len(a)-len(val)] + maskValue(val)
		} else {
			hideNext = true
		}
	}
	return out
}

func sensitiveFlag(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"log-opt", "token", "password", "secret", "cluster-store-opt"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// maskValue keeps the key of a key=value pair and hides the value.
func maskValue(v string) string {
	if k, _, ok := strings.Cut(v, "="); ok {
		return k + "=***"
	}
	return "***"
}
