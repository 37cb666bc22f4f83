package runtime

import (
	"strings"
)

// CgroupLine is one line of /proc/PID/cgroup: "ID:controllers:path". On
// cgroup v2 the only line is "0::/path".
type CgroupLine struct {
	Hierarchy   string // "0" for the v2 unified hierarchy
	Controllers string // "memory", "cpu,cpuacct", "name=systemd", "" for v2
	Path        string
}

// maxCgroupLines bounds the lines kept from one cgroup file; real ones have
// at most a few dozen.
const maxCgroupLines = 256

// ParseCgroup parses the content of /proc/PID/cgroup. Malformed lines are
// skipped; ok is false when no line was usable.
func ParseCgroup(data string) (lines []CgroupLine, ok bool) {
	for len(data) > 0 && len(lines) < maxCgroupLines {
		var line string
		line, data, _ = strings.Cut(data, "\n")
		line = strings.TrimRight(line, "\r")
		h, rest, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		ctl, path, found := strings.Cut(rest, ":")
		if !found || !strings.HasPrefix(path, "/") {
			continue
		}
		lines = append(lines, CgroupLine{Hierarchy: h, Controllers: ctl, Path: path})
	}
	return lines, len(lines) > 0
}

// CgroupMatch is a container recognised from a cgroup path.
type CgroupMatch struct {
	ID      string
	Runtime string
}

// MatchCgroupPath recognises a container in one cgroup path, for cgroup v1
// and v2 and for both cgroup drivers (cgroupfs and systemd):
//
//	/docker/<64hex>                                 docker (cgroupfs)
//	/system.slice/docker-<64hex>.scope              docker (systemd)
//	/…/cri-containerd-<64hex>.scope                 containerd (CRI, systemd)
//	/kubepods/…/pod<uid>/<64hex>                    containerd (CRI, cgroupfs)
//	/nerdctl-<64hex>.scope, /<namespace>/<64hex>    containerd (nerdctl, ctr)
//	/…/crio-<64hex>.scope, /…/crio-<64hex>          cri-o
//	/…/libpod-<64hex>.scope, /libpod_parent/libpod-<64hex>  podman
//	/lxc/NAME, /lxc.payload.NAME, /lxc.payload/NAME LXC and LXD
//	/<64hex>                                        runc with a hex id
//
// Monitor cgroups (crio-conmon-, libpod-conmon-, lxc.monitor) are not
// containers. When several segments match (a container in a container), the
// outermost one wins: that is the container the host runs.
func MatchCgroupPath(path string) (CgroupMatch, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if s == "" {
			continue
		}
		parent := ""
		if i > 0 {
			parent = segs[i-1]
		}
		// LXC: the container is named by the segment after "lxc" or
		// "lxc.payload", or in "lxc.payload.NAME".
		if (s == "lxc" || s == "lxc.payload") && i+1 < len(segs) && segs[i+1] != "" {
			return CgroupMatch{ID: segs[i+1], Runtime: RuntimeLXC}, true
		}
		if name, ok := strings.CutPrefix(s, "lxc.payload."); ok && name != "" {
			return CgroupMatch{ID: name, Runtime: RuntimeLXC}, true
		}
		if m, ok := matchScope(s); ok {
			return m, true
		}
		if isHex64(s) {
			switch {
			case parent == "docker":
				return CgroupMatch{ID: s, Runtime: RuntimeDocker}, true
			case parent == "libpod_parent":
				return CgroupMatch{ID: s, Runtime: RuntimePodman}, true
			case i == 0:
				return CgroupMatch{ID: s, Runtime: RuntimeRunc}, true
			default:
				// kubepods/…/pod<uid>/<id> with cgroupfs, or
				// ctr's /<namespace>/<id>.
				return CgroupMatch{ID: s, Runtime: RuntimeContainerd}, true
			}
		}
	}
	return CgroupMatch{}, false
}

// scopePrefixes maps "<prefix><64hex>[.scope]" segments to runtimes.
var scopePrefixes = []struct {
	prefix  string
	runtime string
}{
	{"docker-", RuntimeDocker},
	{"cri-containerd-", RuntimeContainerd},
	{"nerdctl-", RuntimeContainerd},
	{"crio-", RuntimeCRIO},
	{"libpod-", RuntimePodman},
}

func matchScope(s string) (CgroupMatch, bool) {
	base := strings.TrimSuffix(s, ".scope")
	for _, p := range scopePrefixes {
		if id, ok := strings.CutPrefix(base, p.prefix); ok && isHex64(id) {
			return CgroupMatch{ID: id, Runtime: p.runtime}, true
		}
	}
	return CgroupMatch{}, false
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// MatchCgroup looks for a container in every line of a cgroup file. The
// v2 unified line is tried first, then v1 lines in file order.
func MatchCgroup(lines []CgroupLine) (CgroupMatch, bool) {
	for _, l := range lines {
		if l.Hierarchy == "0" && l.Controllers == "" {
			if m, ok := MatchCgroupPath(l.Path); ok {
				return m, true
			}
		}
	}
	for _, l := range lines {
		if m, ok := MatchCgroupPath(l.Path); ok {
			return m, true
		}
	}
	return CgroupMatch{}, false
}

// relativeLeaf returns the last segment of the first cgroup path of lines
// that lies below the same controller's path in ref (the host's cgroups):
// the name plain runc gives a container's cgroup ("/mycontainer"). It is ""
// when every path equals the host's.
func relativeLeaf(lines, ref []CgroupLine) string {
	refPath := make(map[string]string, len(ref))
	for _, r := range ref {
		refPath[r.Controllers] = r.Path
	}
	for _, l := range lines {
		base, ok := refPath[l.Controllers]
		if !ok {
			base = "/"
		}
		if l.Path == base {
			continue
		}
		rel := strings.TrimPrefix(l.Path, strings.TrimSuffix(base, "/")+"/")
		if rel == l.Path && base != "/" {
			continue // not below the host's cgroup: a sibling, not ours to name
		}
		rel = strings.Trim(rel, "/")
		if rel == "" {
			continue
		}
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			rel = rel[i+1:]
		}
		return rel
	}
	return ""
}
