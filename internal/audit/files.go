package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// fileRule is one ownership or permission check.
type fileRule struct {
	ownerID, modeID string
	paths           []string // the first existing path is checked
	maxMode         fs.FileMode
	group           string // "root" or "docker": the group the file may belong to
	what            string
}

func (a *auditor) fileChecks() {
	if !a.sel.sectionEnabled("3") {
		return
	}
	h := hostFS{a.o.Root}
	t := Target{Kind: KindHost}
	c := a.d.merged
	sock := "/var/run/docker.sock"
	for _, host := range c.Hosts {
		if p, ok := strings.CutPrefix(host, "unix://"); ok && p != "" {
			sock = p
			break
		}
	}
	certPath := func(p string) []string {
		if p == "" {
			return nil
		}
		return []string{p}
	}
	rules := []fileRule{
		{"3.1", "3.2", unitPaths("docker.service"), 0o644, "root", "docker.service"},
		{"3.3", "3.4", unitPaths("docker.socket"), 0o644, "root", "docker.socket"},
		{"3.5", "3.6", []string{"/etc/docker"}, 0o755, "root", "/etc/docker"},
		{"3.9", "3.10", certPath(c.TLSCACert), 0o444, "root", "the TLS CA certificate (tlscacert)"},
		{"3.11", "3.12", certPath(c.TLSCert), 0o444, "root", "the server certificate (tlscert)"},
		{"3.13", "3.14", certPath(c.TLSKey), 0o400, "root", "the server key (tlskey)"},
		{"3.15", "3.16", []string{sock}, 0o660, "docker", "the Docker socket"},
		{"3.17", "3.18", []string{daemonJSON}, 0o644, "root", daemonJSON},
		{"3.19", "3.20", []string{"/etc/default/docker"}, 0o644, "root", "/etc/default/docker"},
		{"3.22", "3.21", []string{"/etc/sysconfig/docker"}, 0o644, "root", "/etc/sysconfig/docker"},
		{"3.23", "3.24", []string{"/run/containerd/containerd.sock"}, 0o660, "root", "the containerd socket"},
	}
	dockerGID := -1
	if b, err := h.readFile("/etc/group"); err == nil {
		dockerGID = groupID(b, "docker")
	}
	a.registryCertChecks(h, t)
	for _, r := range rules {
		if len(r.paths) == 0 {
			msg := r.what + " is not configured (no TLS on the daemon)"
			a.add(r.ownerID, t, Note, msg)
			a.add(r.modeID, t, Note, msg)
			continue
		}
		var p string
		var fi fs.FileInfo
		var statErr error
		for _, cand := range r.paths {
			fi, statErr = h.stat(cand)
			if statErr == nil || !errors.Is(statErr, fs.ErrNotExist) {
				p = cand
				break
			}
		}
		if p == "" {
			msg := strings.Join(r.paths, " or ") + " does not exist on this host"
			a.add(r.ownerID, t, Note, msg)
			a.add(r.modeID, t, Note, msg)
			continue
		}
		if statErr != nil {
			a.warn("cannot stat %s under %s: %v", p, a.o.Root, statErr)
			msg := fmt.Sprintf("cannot stat %s: %v", p, statErr)
			a.add(r.ownerID, t, Note, msg)
			a.add(r.modeID, t, Note, msg)
			continue
		}
		uid, gid, ok := owner(fi)
		switch {
		case !ok:
			a.add(r.ownerID, t, Note, fmt.Sprintf("%s: owner unknown on this platform", p))
		case uid == 0 && (gid == 0 || (r.group == "docker" && gid == dockerGID)):
			a.add(r.ownerID, t, Pass, fmt.Sprintf("%s owned by %s", p, ownerString(uid, gid, dockerGID)))
		default:
			want := "root:root"
			if r.group == "docker" {
				want = "root:docker"
			}
			a.add(r.ownerID, t, Fail, fmt.Sprintf("%s owned by %s, want %s", p, ownerString(uid, gid, dockerGID), want))
		}
		mode := fi.Mode().Perm()
		if extra := mode &^ r.maxMode; extra != 0 {
			a.add(r.modeID, t, Fail, fmt.Sprintf("%s has mode %04o, want %04o or stricter (extra bits %04o)", p, mode, r.maxMode, extra))
		} else {
			a.add(r.modeID, t, Pass, fmt.Sprintf("%s has mode %04o", p, mode))
		}
	}
}

func owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

func ownerString(uid, gid, dockerGID int) string {
	u := strconv.Itoa(uid)
	if uid == 0 {
		u = "root"
	}
	g := strconv.Itoa(gid)
	switch gid {
	case 0:
		g = "root"
	case dockerGID:
		g = "docker"
	}
	return u + ":" + g
}

// groupID returns the numeric id of group name in /etc/group, or -1.
func groupID(b []byte, name string) int {
	id := -1
	_ = eachLine(bytes.NewReader(b), func(line string) {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			if n, err := strconv.Atoi(f[2]); err == nil && id < 0 {
				id = n
			}
		}
	})
	return id
}

// maxRegistryCerts bounds the files looked at under /etc/docker/certs.d.
const maxRegistryCerts = 1000

// registryCertChecks: 3.7 and 3.8 over /etc/docker/certs.d/<registry>/*.
func (a *auditor) registryCertChecks(h hostFS, t Target) {
	if !a.sel.enabled("3.7") && !a.sel.enabled("3.8") {
		return
	}
	regs, err := h.glob("/etc/docker/certs.d", "*")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.warn("cannot list /etc/docker/certs.d under %s: %v", a.o.Root, err)
	}
	var files []string
	for _, r := range regs {
		fs, _ := h.glob(r, "*")
		files = append(files, fs...)
		if len(files) > maxRegistryCerts {
			a.warn("more than %d files under /etc/docker/certs.d; checked the first %d", maxRegistryCerts, maxRegistryCerts)
			files = files[:maxRegistryCerts]
			break
		}
	}
	var badOwner, badMode []string
	n := 0
	for _, p := range files {
		fi, err := h.stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		n++
		if uid, gid, ok := owner(fi); ok && (uid != 0 || gid != 0) {
			badOwner = append(badOwner, fmt.Sprintf("%s (%d:%d)", p, uid, gid))
		}
		if m := fi.Mode().Perm(); m&^0o444 != 0 {
			badMode = append(badMode, fmt.Sprintf("%s (%04o)", p, m))
		}
	}
	if n == 0 {
		a.add("3.7", t, Note, "no registry certificates under /etc/docker/certs.d")
		a.add("3.8", t, Note, "no registry certificates under /etc/docker/certs.d")
		return
	}
	if len(badOwner) > 0 {
		a.add("3.7", t, Fail, "not owned by root:root: "+strings.Join(badOwner, ", "))
	} else {
		a.add("3.7", t, Pass, fmt.Sprintf("%d registry certificate files owned by root:root", n))
	}
	if len(badMode) > 0 {
		a.add("3.8", t, Fail, "writable or executable: "+strings.Join(badMode, ", "))
	} else {
		a.add("3.8", t, Pass, fmt.Sprintf("%d registry certificate files mode 0444 or stricter", n))
	}
}
