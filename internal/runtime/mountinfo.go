package runtime

import (
	"errors"
	"strconv"
	"strings"
)

// MountInfo is one line of /proc/PID/mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
type MountInfo struct {
	ID, Parent   int
	Major, Minor int
	Root         string // directory of the filesystem mounted here
	MountPoint   string
	Options      string   // per-mount options
	Optional     []string // shared:N, master:N, propagate_from:N, unbindable
	FSType       string
	Source       string
	SuperOptions string // per-superblock options (overlay's lowerdir=…)
}

var errMountInfo = errors.New("malformed mountinfo line")

// ParseMountInfoLine parses one mountinfo line, undoing the kernel's octal
// escapes (\040 space, \011 tab, \012 newline, \134 backslash) in paths.
func ParseMountInfoLine(line string) (MountInfo, error) {
	var m MountInfo
	f := strings.Fields(line)
	// At least: id parent maj:min root mountpoint options - fstype source.
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 9 || sep < 0 || sep+2 >= len(f) {
		return m, errMountInfo
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, errMountInfo
	}
	if m.Parent, err = strconv.Atoi(f[1]); err != nil {
		return m, errMountInfo
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return m, errMountInfo
	}
	if m.Major, err = strconv.Atoi(maj); err != nil {
		return m, errMountInfo
	}
	if m.Minor, err = strconv.Atoi(min); err != nil {
		return m, errMountInfo
	}
	m.Root = unescapeOctal(f[3])
	m.MountPoint = unescapeOctal(f[4])
	m.Options = f[5]
	if sep > 6 {
		m.Optional = f[6:sep]
	}
	m.FSType = f[sep+1]
	m.Source = unescapeOctal(f[sep+2])
	if sep+3 < len(f) {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// unescapeOctal undoes the \NNN escapes the kernel writes for space, tab,
// newline and backslash (and seq_show_option's for commas and '=').
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && isOctal3(s[i+1:]) {
			n := (int(s[i+1]-'0')<<6 | int(s[i+2]-'0')<<3 | int(s[i+3]-'0'))
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal3(s string) bool {
	return len(s) >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7'
}

// maxMountLines bounds how many mountinfo lines are parsed per namespace;
// a host with more mounts than this in one container is reported with the
// root mount found so far.
const maxMountLines = 100000

// RootMount returns the mount that is "/" in a mountinfo file: the last one
// mounted there, since later mounts hide earlier ones. ok is false when no
// line mounts "/".
func RootMount(data string) (root MountInfo, ok bool) {
	n := 0
	for len(data) > 0 && n < maxMountLines {
		var line string
		line, data, _ = strings.Cut(data, "\n")
		n++
		// Cheap pre-check: field 5 must be "/"; avoid a full parse of the
		// hundreds of other mounts.
		if !strings.Contains(line, " / ") {
			continue
		}
		m, err := ParseMountInfoLine(line)
		if err != nil || m.MountPoint != "/" {
			continue
		}
		root, ok = m, true
	}
	return root, ok
}

// RootFSOf describes a root mount, splitting overlay's directories out of
// its super options.
func RootFSOf(m MountInfo) *RootFS {
	r := &RootFS{FSType: m.FSType, Source: m.Source, Root: m.Root}
	if m.FSType == "overlay" || strings.HasPrefix(m.FSType, "fuse.fuse-overlayfs") {
		for _, opt := range strings.Split(m.SuperOptions, ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "upperdir":
				r.UpperDir = unescapeOctal(v)
			case "lowerdir":
				for _, d := range strings.Split(v, ":") {
					if d != "" {
						r.LowerDirs = append(r.LowerDirs, unescapeOctal(d))
					}
				}
			}
		}
	}
	return r
}
