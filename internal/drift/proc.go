package drift

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/redact"
	"github.com/bulkhead-sec/bulkhead/internal/runtime"
)

const (
	maxCgroupFile = 64 << 10
	maxCmdline    = 4 << 10
	showCmdline   = 512
	deletedSuffix = " (deleted)"
)

// process is one process of the container, as the host's /proc shows it.
type process struct {
	pid       int
	exe       string // path in the container's mount namespace
	deleted   bool   // the program file was unlinked after exec
	sha256    string // "" when the program could not be read
	size      int64
	truncated bool
	cmdline   string
}

// parseCgroup reads /proc/PID/cgroup with the inventory's parser
// (malformed lines skipped, the line count bounded).
func parseCgroup(b []byte) []runtime.CgroupLine {
	lines, _ := runtime.ParseCgroup(string(b))
	return lines
}

// containerCgroup picks the line of the container's init process that
// identifies the container: the unified hierarchy when the container has
// its own cgroup there, else the pids controller, else the first line that
// is not the root.
func containerCgroup(lines []runtime.CgroupLine) (runtime.CgroupLine, bool) {
	for _, l := range lines {
		if l.Hierarchy == "0" && l.Controllers == "" && l.Path != "/" {
			return l, true
		}
	}
	for _, l := range lines {
		if l.Path != "/" && strings.Contains(","+l.Controllers+",", ",pids,") {
			return l, true
		}
	}
	for _, l := range lines {
		if l.Path != "/" {
			return l, true
		}
	}
	return runtime.CgroupLine{}, false
}

// inCgroup reports whether a process's cgroup lines put it in sel or
// below it.
func inCgroup(lines []runtime.CgroupLine, sel runtime.CgroupLine) bool {
	for _, l := range lines {
		if l.Hierarchy == sel.Hierarchy && l.Controllers == sel.Controllers &&
			(l.Path == sel.Path || strings.HasPrefix(l.Path, sel.Path+"/")) {
			return true
		}
	}
	return false
}

func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// containerPIDs lists the processes in the cgroup of initPID by reading
// every /proc/N/cgroup under procRoot.
func containerPIDs(procRoot string, initPID int) ([]int, []string, error) {
	b, err := readBounded(filepath.Join(procRoot, strconv.Itoa(initPID), "cgroup"), maxCgroupFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read the cgroup of the container's init process %d: %w (processes are read from the host's /proc: run as root in the host PID namespace, or set --proc-root)", initPID, err)
	}
	sel, ok := containerCgroup(parseCgroup(b))
	if !ok {
		// No cgroup of its own: only the init process is known.
		return []int{initPID}, []string{fmt.Sprintf("process %d is in the root cgroup: only it is checked", initPID)}, nil
	}
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", procRoot, err)
	}
	pids := []int{initPID}
	denied := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || pid == initPID {
			continue
		}
		b, err := readBounded(filepath.Join(procRoot, e.Name(), "cgroup"), maxCgroupFile)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				denied++
			}
			continue // exited meanwhile
		}
		if inCgroup(parseCgroup(b), sel) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	var warns []string
	if denied > 0 {
		warns = append(warns, fmt.Sprintf("%d processes under %s could not be read (permission denied)", denied, procRoot))
	}
	return pids, warns, nil
}

// listProcesses reads the program path, hash and command line of every
// process of the container. A process that exits meanwhile is skipped.
func listProcesses(procRoot string, initPID int, maxRead int64) ([]process, []string) {
	pids, warns, err := containerPIDs(procRoot, initPID)
	if err != nil {
		return nil, append(warns, err.Error())
	}
	var out []process
	unreadable := 0
	for _, pid := range pids {
		dir := filepath.Join(procRoot, strconv.Itoa(pid))
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // exited, a zombie, or a kernel thread
			}
			unreadable++
			continue
		}
		p := process{pid: pid, exe: exe}
		if strings.HasSuffix(exe, deletedSuffix) {
			p.exe, p.deleted = strings.TrimSuffix(exe, deletedSuffix), true
		}
		if f, err := os.Open(filepath.Join(dir, "exe")); err == nil {
			sum, _, _, n, err := hashBounded(f, maxRead, 0)
			if st, serr := f.Stat(); serr == nil && err == nil {
				p.sha256, p.size, p.truncated = sum, st.Size(), n < st.Size()
			}
			f.Close()
		} else if !errors.Is(err, fs.ErrNotExist) {
			unreadable++
		}
		if b, err := readBounded(filepath.Join(dir, "cmdline"), maxCmdline); err == nil {
			p.cmdline = MaskCmdline(b)
		}
		out = append(out, p)
	}
	if unreadable > 0 {
		warns = append(warns, fmt.Sprintf("the program of %d processes could not be read under %s", unreadable, procRoot))
	}
	return out, warns
}

// initPaths are where Docker mounts its own init (--init) from the host:
// /sbin/docker-init, which is /usr/sbin/docker-init in a merged-/usr image.
var initPaths = map[string]bool{"/sbin/docker-init": true, "/usr/sbin/docker-init": true}

// dropInit removes docker's own init process.
func dropInit(ps []process) []process {
	out := ps[:0]
	for _, p := range ps {
		if !initPaths[p.exe] {
			out = append(out, p)
		}
	}
	return out
}

// MaskCmdline turns a NUL-separated /proc/PID/cmdline into one line, with
// the values of arguments that look like secrets masked ("--password=****",
// "--token ****"), and at most 512 characters.
func MaskCmdline(b []byte) string {
	raw := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
	args := make([]string, len(raw))
	for i, a := range raw {
		args[i] = string(a)
	}
	var sb strings.Builder
	for i, s := range redact.Args(args) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strings.Map(printable, s))
		if sb.Len() > showCmdline {
			break
		}
	}
	out := sb.String()
	if len(out) > showCmdline {
		out = strings.ToValidUTF8(out[:showCmdline], "") + "…"
	}
	return out
}

func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return '?'
	}
	return r
}

// checkProcesses reports each program the container runs that its image
// does not hold, or holds with other content. Processes running the same
// program are one finding.
func checkProcesses(res *Result, procs []process, img *imageIndex, mounts []string) {
	type group struct {
		first process
		pids  []int
	}
	groups := map[string]*group{}
	var order []string
	for _, p := range procs {
		k := p.exe + "\x00" + p.sha256
		g, ok := groups[k]
		if !ok {
			g = &group{first: p}
			groups[k] = g
			order = append(order, k)
		}
		g.pids = append(g.pids, p.pid)
	}
	for _, k := range order {
		g := groups[k]
		p := g.first
		var old *fileState
		if img != nil {
			old = img.files[p.exe]
		}
		f := Finding{Path: p.exe, Severity: high, Detail: Detail{
			PIDs: g.pids, Cmdline: p.cmdline, ExeDeleted: p.deleted,
			NewSHA256: short(p.sha256), Truncated: p.truncated,
		}}
		if p.sha256 != "" {
			f.Detail.NewSize = ptr(p.size)
		}
		switch {
		case old == nil || !old.isRegular():
			f.Kind = KindExecNotInImage
			if m := mountOf(p.exe, mounts); m != "" {
				f.Detail.Note = "runs from the volume or bind mount at " + m
			}
		case p.sha256 == "":
			res.warnf("process %d runs %s, which the image holds, but its program could not be read to compare", p.pid, p.exe)
			continue
		case old.sha256 == p.sha256 && old.size == p.size:
			continue
		default:
			f.Kind = KindExecModified
			f.Detail.OldSize = ptr(old.size)
			f.Detail.OldSHA256 = short(old.sha256)
			f.Detail.Truncated = f.Detail.Truncated || old.truncated
		}
		res.Findings = append(res.Findings, f)
	}
}

// mountOf returns the mount destination p lies under, if any.
func mountOf(p string, mounts []string) string {
	best := ""
	for _, m := range mounts {
		if (p == m || strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best
}
