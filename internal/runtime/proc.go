package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcOptions configures a /proc scan.
type ProcOptions struct {
	// Root is the proc filesystem to read (default /proc). A host's /proc
	// mounted elsewhere (/host/proc) or a synthetic tree works the same.
	Root string
	// HostRoot is the host's / as seen from here, used to find runtime
	// state files (Docker's config.v2.json, runc's state.json, Podman and
	// CRI-O's containers/storage JSON) that name a
	// container's image or bundle. Default: the parent of Root ("/" for
	// "/proc"). "-" disables the lookup.
	HostRoot string
}

// maxProcFile bounds what is read of one /proc file (cgroup, mountinfo).
const (
	maxCgroupFile    = 64 << 10
	maxMountInfoFile = 8 << 20
	maxStateFile     = 4 << 20
)

// ProcResult is what a /proc scan found.
type ProcResult struct {
	Containers []Container
	Stats      ProcStats
	Warnings   []string
}

// errUnreadable marks an entry that exists but could not be read.
var errUnreadable = errors.New("unreadable")

// procRef is the host's view: the mount namespace, root mount and cgroups of
// a process known to be on the host (PID 1, else ourselves).
type procRef struct {
	mntNS   string
	root    MountInfo
	hasRoot bool
	cgroups []CgroupLine
}

// ScanProc finds containers of any runtime from /proc/*/cgroup and
// /proc/*/mountinfo. A process is a container's when its cgroup path names
// one (MatchCgroupPath), or, failing that, when it lives in another mount
// namespace than the host with another root filesystem (plain runc with a
// named cgroup, or a runtime we do not know). Entries that cannot be read
// are skipped and counted; processes that exit mid-scan are counted apart.
func ScanProc(ctx context.Context, opts ProcOptions) (*ProcResult, error) {
	root := opts.Root
	if root == "" {
		root = "/proc"
	}
	hostRoot := opts.HostRoot
	if hostRoot == "" {
		hostRoot = filepath.Dir(filepath.Clean(root))
	}
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (pass --proc-root with the host's proc filesystem)", root, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	res := &ProcResult{Stats: ProcStats{Root: root}}
	ref := hostRef(root)
	if ref.mntNS == "" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("cannot read the host's mount namespace under %s (PID 1 or self); containers are recognised by cgroup path only", root))
	}

	type nsInfo struct {
		rootfs *RootFS
		ok     bool
	}
	nsCache := map[string]nsInfo{} // mount namespace → root mount
	byID := map[string]*Container{}
	var order []string

	buf := make([]byte, maxCgroupFile)
	for i, name := range names {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		res.Stats.Processes++
		dir := root + "/" + name
		// An unreadable namespace link (EACCES for another user's
		// process) leaves ns empty; whether the process is gone is
		// decided by the cgroup read below.
		ns, nsErr := os.Readlink(dir + "/ns/mnt")
		if nsErr != nil {
			ns = ""
		}
		if ns != "" && ns == ref.mntNS {
			res.Stats.InHost++
			continue
		}
		cg, err := readSmall(dir+"/cgroup", buf)
		if err != nil {
			if gone(err) {
				res.Stats.Vanished++
			} else {
				res.Stats.Unreadable++
			}
			continue
		}
		lines, ok := ParseCgroup(cg)
		if !ok {
			res.Stats.Unreadable++
			continue
		}
		match, matched := MatchCgroup(lines)
		if !matched && (ns == "" || ref.mntNS == "" || !ref.hasRoot || kernelThread(dir, buf)) {
			// Without a namespace to compare, only a recognised cgroup
			// path says "container". Kernel threads (kdevtmpfs) have
			// mount namespaces of their own and are no container.
			res.Stats.InHost++
			continue
		}

		// The root mount, once per mount namespace.
		var info nsInfo
		cached := false
		if ns != "" {
			info, cached = nsCache[ns]
		}
		if !cached {
			mi, err := readLimited(dir+"/mountinfo", maxMountInfoFile)
			if err == nil {
				if m, ok := RootMount(mi); ok {
					info.ok = true
					info.rootfs = RootFSOf(m)
					if !matched && sameMount(m, ref.root) {
						info.rootfs = nil // the host's own root: not a container
					}
				}
			} else if gone(err) {
				res.Stats.Vanished++
				continue
			}
			if ns != "" {
				nsCache[ns] = info
			}
		}
		if !matched {
			if !info.ok || info.rootfs == nil {
				// Another mount namespace on the host's root (a
				// systemd sandbox, unshare): not a container.
				res.Stats.InHost++
				continue
			}
			match = CgroupMatch{Runtime: RuntimeRunc, ID: relativeLeaf(lines, ref.cgroups)}
			if match.ID == "" {
				match = CgroupMatch{Runtime: RuntimeUnknown, ID: "mntns-" + nsInode(ns)}
			}
		}
		res.Stats.Contained++
		c := byID[match.ID]
		if c == nil {
			c = &Container{ID: match.ID, Name: match.ID, Runtime: match.Runtime, Sources: []string{SourceProc}, State: "running"}
			if info.ok {
				c.RootFS = info.rootfs
			}
			byID[match.ID] = c
			order = append(order, match.ID)
		}
		if c.RootFS == nil && info.ok {
			c.RootFS = info.rootfs
		}
		c.PIDs = append(c.PIDs, pid)
	}

	var storage *containersStorage
	for _, id := range order {
		c := byID[id]
		sort.Ints(c.PIDs)
		if hostRoot != "-" {
			enrichFromState(c, hostRoot)
			if c.Runtime == RuntimePodman || c.Runtime == RuntimeCRIO {
				if storage == nil {
					storage = readContainersStorage(hostRoot)
				}
				storage.enrich(c)
			}
		}
		res.Containers = append(res.Containers, *c)
	}
	if res.Stats.Unreadable > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d /proc entries under %s could not be read and were skipped", res.Stats.Unreadable, res.Stats.Processes, root))
	}
	return res, nil
}

// hostRef reads the reference process: PID 1, or "self" when PID 1's
// namespace is hidden (a sandboxed or unprivileged reader).
func hostRef(root string) procRef {
	var ref procRef
	for _, p := range []string{"1", "self"} {
		ns, err := os.Readlink(root + "/" + p + "/ns/mnt")
		if err != nil || ns == "" {
			continue
		}
		ref.mntNS = ns
		if mi, err := readLimited(root+"/"+p+"/mountinfo", maxMountInfoFile); err == nil {
			ref.root, ref.hasRoot = RootMount(mi)
		}
		if cg, err := readLimited(root+"/"+p+"/cgroup", maxCgroupFile); err == nil {
			ref.cgroups, _ = ParseCgroup(cg)
		}
		return ref
	}
	return ref
}

// kernelThread reports whether the process in dir is kthreadd (PID 2) or
// one of its children, from /proc/PID/stat: "pid (comm) state ppid …".
func kernelThread(dir string, buf []byte) bool {
	stat, err := readSmall(dir+"/stat", buf)
	if err != nil {
		return false
	}
	pid, _, _ := strings.Cut(stat, " ")
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(stat[i+1:])
	return pid == "2" || (len(f) >= 2 && f[1] == "2")
}

func sameMount(a, b MountInfo) bool {
	return a.Major == b.Major && a.Minor == b.Minor && a.Root == b.Root && a.FSType == b.FSType
}

// nsInode turns "mnt:[4026532210]" into "4026532210".
func nsInode(ns string) string {
	if i := strings.IndexByte(ns, '['); i >= 0 {
		return strings.TrimSuffix(ns[i+1:], "]")
	}
	return ns
}

// gone reports an error that means the process exited while being read.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// openRegular opens path for reading only if it is a regular file (as
// every /proc and state file read here is): a FIFO planted under
// --proc-root would block open and read for ever, a link to /dev/zero
// would never end. O_NONBLOCK keeps the open itself from blocking.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	return f, nil
}

// readSmall reads a file of at most len(buf) bytes into buf.
func readSmall(path string, buf []byte) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	return string(buf[:n]), nil
}

// readLimited reads up to limit bytes of a file.
func readLimited(path string, limit int64) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// enrichFromState fills in what runtime state files on the host say about a
// /proc container: Docker's config.v2.json names its image; runc's
// state.json its bundle. Missing or unreadable files are no error.
func enrichFromState(c *Container, hostRoot string) {
	switch c.Runtime {
	case RuntimeDocker:
		if !isHex64(c.ID) {
			return
		}
		data, err := readLimited(filepath.Join(hostRoot, "var/lib/docker/containers", c.ID, "config.v2.json"), maxStateFile)
		if err != nil {
			return
		}
		var cfg struct {
			Name   string
			Image  string
			Config struct {
				Image  string
				User   string
				Labels map[string]string
			}
		}
		if json.Unmarshal([]byte(data), &cfg) != nil {
			return
		}
		c.Image, c.ImageID, c.User = cfg.Config.Image, cfg.Image, cfg.Config.User
		if n := strings.TrimPrefix(cfg.Name, "/"); n != "" {
			c.Name = n
		}
		if len(cfg.Config.Labels) > 0 {
			c.Labels = cfg.Config.Labels
			setLabelFields(c)
		}
	case RuntimeRunc:
		if strings.ContainsAny(c.ID, "/\\") || c.ID == ".." || c.ID == "." {
			return
		}
		for _, dir := range []string{"run/runc", "run/user/0/runc"} {
			data, err := readLimited(filepath.Join(hostRoot, dir, c.ID, "state.json"), maxStateFile)
			if err != nil {
				continue
			}
			var st struct {
				Config struct {
					Labels []string `json:"labels"`
				} `json:"config"`
				Created string `json:"created"`
			}
			if json.Unmarshal([]byte(data), &st) != nil {
				continue
			}
			for _, l := range st.Config.Labels {
				if b, ok := strings.CutPrefix(l, "bundle="); ok {
					c.Bundle = b
				}
			}
			if t, err := time.Parse(time.RFC3339Nano, st.Created); err == nil {
				c.Created = t.UTC()
			}
			return
		}
	}
}

// containersStorage is what containers/storage (Podman, CRI-O, Buildah)
// records: which image each container was made from, and image names.
type containersStorage struct {
	containers map[string]csContainer
	images     map[string][]string // image id → names
}

type csContainer struct {
	ID      string   `json:"id"`
	Names   []string `json:"names"`
	Image   string   `json:"image"`
	Created string   `json:"created"`
}

// readContainersStorage reads the overlay driver's containers.json and
// images.json under hostRoot; missing or malformed files leave it empty.
func readContainersStorage(hostRoot string) *containersStorage {
	cs := &containersStorage{containers: map[string]csContainer{}, images: map[string][]string{}}
	base := filepath.Join(hostRoot, "var/lib/containers/storage")
	if data, err := readLimited(filepath.Join(base, "overlay-containers", "containers.json"), 4*maxStateFile); err == nil {
		var list []csContainer
		if json.Unmarshal([]byte(data), &list) == nil {
			for _, c := range list {
				cs.containers[c.ID] = c
			}
		}
	}
	if data, err := readLimited(filepath.Join(base, "overlay-images", "images.json"), 4*maxStateFile); err == nil {
		var list []struct {
			ID    string   `json:"id"`
			Names []string `json:"names"`
		}
		if json.Unmarshal([]byte(data), &list) == nil {
			for _, im := range list {
				cs.images[im.ID] = im.Names
			}
		}
	}
	return cs
}

func (cs *containersStorage) enrich(c *Container) {
	rec, ok := cs.containers[c.ID]
	if !ok {
		return
	}
	if len(rec.Names) > 0 && rec.Names[0] != "" {
		c.Name = rec.Names[0]
	}
	if rec.Image != "" {
		c.ImageID = "sha256:" + rec.Image
		if names := cs.images[rec.Image]; len(names) > 0 {
			c.Image = names[0]
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, rec.Created); err == nil {
		c.Created = t.UTC()
	}
}
