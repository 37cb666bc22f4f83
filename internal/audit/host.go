package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path"
	"slices"
	"strings"
)

// systemdDirs are where docker.service and docker.socket live.
var systemdDirs = []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// auditTargets maps check ids to the host paths whose audit rules they
// want; the first existing path is the one checked.
var auditTargets = []struct {
	id    string
	paths []string
}{
	{"1.1.3", []string{"/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd"}},
	{"1.1.4", []string{"/run/containerd"}},
	{"1.1.5", nil}, // the data root
	{"1.1.6", []string{"/etc/docker"}},
	{"1.1.7", unitPaths("docker.service")},
	{"1.1.8", []string{"/run/containerd/containerd.sock"}},
	{"1.1.9", unitPaths("docker.socket")},
	{"1.1.10", []string{"/etc/default/docker"}},
	{"1.1.11", []string{daemonJSON}},
	{"1.1.12", []string{"/etc/containerd/config.toml"}},
	{"1.1.13", []string{"/etc/sysconfig/docker"}},
	{"1.1.14", []string{"/usr/bin/containerd", "/usr/sbin/containerd", "/usr/local/bin/containerd"}},
	{"1.1.15", []string{"/usr/bin/containerd-shim", "/usr/local/bin/containerd-shim"}},
	{"1.1.16", []string{"/usr/bin/containerd-shim-runc-v1", "/usr/local/bin/containerd-shim-runc-v1"}},
	{"1.1.17", []string{"/usr/bin/containerd-shim-runc-v2", "/usr/local/bin/containerd-shim-runc-v2"}},
	{"1.1.18", []string{"/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc"}},
}

func unitPaths(name string) []string {
	var out []string
	for _, d := range systemdDirs {
		out = append(out, d+"/"+name)
	}
	return out
}

func (a *auditor) hostChecks() {
	if !a.sel.sectionEnabled("1") {
		return
	}
	h := hostFS{a.o.Root}
	t := Target{Kind: KindHost}
	a.partitionCheck(h, t)
	a.dockerGroupCheck(h, t)
	a.auditRuleChecks(h, t)
}

func (a *auditor) partitionCheck(h hostFS, t Target) {
	if !a.sel.enabled("1.1.1") {
		return
	}
	dr := a.dataRoot()
	var mounts []Mount
	var sources []string
	for _, f := range []struct {
		name  string
		parse func([]byte) ([]Mount, error)
	}{
		{"/proc/self/mountinfo", func(b []byte) ([]Mount, error) { return ParseMountinfo(bytes.NewReader(b)) }},
		{"/proc/mounts", func(b []byte) ([]Mount, error) { return ParseMounts(bytes.NewReader(b)) }},
		{"/etc/fstab", func(b []byte) ([]Mount, error) { return ParseMounts(bytes.NewReader(b)) }},
	} {
		if f.name == "/proc/mounts" && slices.Contains(sources, "/proc/self/mountinfo") {
			continue // the same table
		}
		b, err := h.readFile(f.name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				a.warn("cannot read %s under %s: %v", f.name, a.o.Root, err)
			}
			continue
		}
		m, err := f.parse(b)
		if err != nil {
			a.warn("%s: %v", f.name, err)
		}
		mounts = append(mounts, m...)
		sources = append(sources, f.name)
	}
	if len(sources) == 0 {
		a.add("1.1.1", t, Note, "no mount table readable (/proc/self/mountinfo, /proc/mounts, /etc/fstab); cannot tell")
		return
	}
	for _, m := range mounts {
		if path.Clean(m.MountPoint) == dr {
			a.add("1.1.1", t, Pass, fmt.Sprintf("%s is a mount point (%s %s, from %s)", dr, m.FSType, m.Source, strings.Join(sources, ", ")))
			return
		}
	}
	a.add("1.1.1", t, Fail, fmt.Sprintf("%s is not a mount point in %s: containers can fill the filesystem it shares", dr, strings.Join(sources, ", ")))
}

func (a *auditor) dockerGroupCheck(h hostFS, t Target) {
	if !a.sel.enabled("1.1.2") {
		return
	}
	b, err := h.readFile("/etc/group")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.warn("cannot read /etc/group under %s: %v", a.o.Root, err)
		}
		a.add("1.1.2", t, Note, fmt.Sprintf("/etc/group not readable: %v", err))
		return
	}
	members, found, err := ParseGroupMembers(bytes.NewReader(b), "docker")
	switch {
	case err != nil:
		a.add("1.1.2", t, Note, fmt.Sprintf("/etc/group: %v", err))
	case !found:
		a.add("1.1.2", t, Pass, "no docker group in /etc/group")
	case len(members) == 0:
		a.add("1.1.2", t, Pass, "docker group has no members")
	default:
		a.add("1.1.2", t, Warn, fmt.Sprintf("docker group members (each one is root on this host): %s", strings.Join(members, ", ")))
	}
}

// auditRules gathers the watched paths of every rules file and, on the
// real host, of `auditctl -l`.
func (a *auditor) auditRules(h hostFS) ([]AuditRule, []string) {
	var rules []AuditRule
	var from []string
	files, err := h.glob("/etc/audit/rules.d", "*.rules")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.warn("cannot list /etc/audit/rules.d under %s: %v", a.o.Root, err)
	}
	files = append(files, "/etc/audit/audit.rules")
	for _, f := range files {
		b, err := h.readFile(f)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				a.warn("cannot read %s under %s: %v", f, a.o.Root, err)
			}
			continue
		}
		r, err := ParseAuditRules(bytes.NewReader(b))
		if err != nil {
			a.warn("%s: %v", f, err)
		}
		rules = append(rules, r...)
		from = append(from, f)
	}
	if path.Clean(a.o.Root) == "/" {
		if bin, err := exec.LookPath("auditctl"); err == nil {
			out, err := exec.Command(bin, "-l").Output()
			if err == nil {
				r, _ := ParseAuditRules(bytes.NewReader(out))
				rules = append(rules, r...)
				from = append(from, "auditctl -l")
			} else {
				a.warn("auditctl -l: %v", err)
			}
		}
	}
	return rules, from
}

func (a *auditor) auditRuleChecks(h hostFS, t Target) {
	want := false
	for _, at := range auditTargets {
		want = want || a.sel.enabled(at.id)
	}
	if !want {
		return
	}
	rules, from := a.auditRules(h)
	src := "no audit rules found (/etc/audit/rules.d/*.rules, /etc/audit/audit.rules"
	if path.Clean(a.o.Root) == "/" {
		src += ", auditctl -l"
	}
	src += ")"
	if len(from) > 0 {
		src = "rules from " + strings.Join(from, ", ")
	}
	for _, at := range auditTargets {
		paths := at.paths
		if at.id == "1.1.5" {
			paths = []string{a.dataRoot()}
		}
		var target string
		for _, p := range paths {
			if h.exists(p) {
				target = p
				break
			}
		}
		if target == "" {
			a.add(at.id, t, Note, fmt.Sprintf("%s does not exist on this host", strings.Join(paths, " or ")))
			continue
		}
		real, _ := h.resolve(target)
		if r, ok := watched(rules, append([]string{target, real}, paths...)...); ok {
			a.add(at.id, t, Pass, fmt.Sprintf("%s is audited: %q", target, r.Line))
		} else {
			a.add(at.id, t, Fail, fmt.Sprintf("no audit rule watches %s (%s)", target, src))
		}
	}
}

// watched finds a rule on one of the names of a file, or on a directory
// above it (a -w directory watch is recursive).
func watched(rules []AuditRule, names ...string) (AuditRule, bool) {
	for _, r := range rules {
		rp := path.Clean(r.Path)
		for _, n := range names {
			if n == "" {
				continue
			}
			c := path.Clean(n)
			if rp == c || (rp != "/" && strings.HasPrefix(c, rp+"/")) {
				return r, true
			}
		}
	}
	return AuditRule{}, false
}
