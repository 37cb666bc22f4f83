// Package imagefacts is the analyzer that records, during the one walk over
// each image layer, the file facts the built-image checks need: setuid and
// setgid files, world-writable files outside the temporary directories, an
// SSH server or sudo, and package-manager caches left behind.
//
// Everything is decided from the path and the tar header's mode in Required;
// Analyze never reads the content.
//
// Known limit: a fact about an arbitrary file (say /app/bin/helper, setuid)
// survives when a later layer only changes the file's mode, because the new
// copy is not offered to the analyzer and so does not replace the old result.
// Well-known setuid binaries are always offered to avoid this for the usual
// case; closing it for every file needs the core to tell analyzers that a
// path was re-added (or a metadata-only analyzer kind). Its results are facts, not finished
// findings: after the layers are merged (so files a later layer deleted no
// longer count), pass them to misconfig/image.Check, which groups caches and
// world-writable files per layer and adds the why, fix and references.
package imagefacts

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Name of the analyzer.
const Name = "imagefacts"

// Analyzer records file facts for the image checks.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts the files Facts has something to say about, and the
// well-known setuid/setgid binaries whatever their mode: when a later layer
// strips the bits (RUN chmod a-s /usr/bin/passwd, the usual CIS 4.8 fix),
// the analyzer's empty result for the new copy replaces the earlier fact
// when the layers are merged. (For other files whose bits a later layer
// removes, the earlier fact survives; see the package documentation.)
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	if info == nil || !info.Mode().IsRegular() {
		return false
	}
	return knownSetuid[path] || len(Facts(path, info)) > 0
}

// knownSetuid are binaries that distributions install setuid or setgid,
// under /usr and the legacy root directories.
var knownSetuid = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"bin/passwd", "bin/su", "bin/mount", "bin/umount", "bin/chsh", "bin/chfn", "bin/gpasswd", "bin/newgrp",
		"bin/chage", "bin/expiry", "sbin/unix_chkpwd", "bin/ssh-agent", "bin/wall", "bin/write", "bin/crontab",
		"bin/pkexec", "bin/ping", "bin/ping6", "bin/at", "bin/newuidmap", "bin/newgidmap", "sbin/pam_extrausers_chkpwd",
		"bin/fusermount", "bin/fusermount3", "bin/bsd-write", "bin/dotlockfile", "bin/mail-lock", "bin/staprun",
		"lib/openssh/ssh-keysign", "libexec/openssh/ssh-keysign", "lib/dbus-1.0/dbus-daemon-launch-helper",
		"libexec/dbus-1/dbus-daemon-launch-helper", "bin/sudo", "bin/sudoedit", "sbin/mount.nfs", "bin/Xorg",
	} {
		m["/usr/"+n] = true
		m["/"+n] = true
	}
	return m
}()

// Analyze returns the facts of in.Path from its metadata; the content is not
// read.
func (*Analyzer) Analyze(_ context.Context, in analyzer.Input) (*analyzer.Result, error) {
	return result(Facts(in.Path, in.Info)), nil
}

// cacheFileMax bounds the size of a cache file offered to the analyzer: the
// core reads every wanted file, and one small file per cache is enough to
// know the cache is there.
const cacheFileMax = 8 << 20

// smallCacheFileMax bounds files of caches that consist of many small
// entries (pip, npm, yarn metadata).
const smallCacheFileMax = 1 << 20

var sshdPaths = map[string]bool{
	"/usr/sbin/sshd": true, "/sbin/sshd": true, "/usr/bin/sshd": true, "/usr/local/sbin/sshd": true,
	"/usr/sbin/dropbear": true, "/usr/bin/dropbear": true,
}

var sudoPaths = map[string]bool{
	"/usr/bin/sudo": true, "/bin/sudo": true, "/usr/local/bin/sudo": true, "/usr/sbin/sudo": true,
	"/usr/bin/doas": true,
}

// Facts returns what path and its mode reveal, as findings carrying only
// ID, type, severity, path, message and (for caches) the cache kind in
// Resource. It is pure: no I/O.
func Facts(path string, info fs.FileInfo) []misconfig.Finding {
	if info == nil {
		return nil
	}
	mode := info.Mode()
	if !mode.IsRegular() {
		return nil
	}
	var out []misconfig.Finding
	fact := func(id, msg, res string) {
		c, _ := misconfig.Lookup(id)
		out = append(out, misconfig.Finding{ID: id, Type: c.Type, Severity: c.Severity, Title: c.Title, Path: path, Message: msg, Resource: res})
	}
	perm := mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	switch {
	case mode&fs.ModeSetuid != 0 && mode&fs.ModeSetgid != 0:
		fact(misconfig.IMGSetuid, fmt.Sprintf("%s is setuid and setgid (mode %s)", path, octal(perm)), "")
	case mode&fs.ModeSetuid != 0:
		fact(misconfig.IMGSetuid, fmt.Sprintf("%s is setuid (mode %s)", path, octal(perm)), "")
	case mode&fs.ModeSetgid != 0:
		fact(misconfig.IMGSetuid, fmt.Sprintf("%s is setgid (mode %s)", path, octal(perm)), "")
	}
	if mode.Perm()&0o002 != 0 && !tmpPath(path) {
		fact(misconfig.IMGWorldWritable, fmt.Sprintf("%s is world-writable (mode %s)", path, octal(perm)), "")
	}
	if sshdPaths[path] {
		fact(misconfig.IMGSshd, "SSH server "+path+" is installed", "")
	}
	if sudoPaths[path] {
		fact(misconfig.IMGSudo, path+" is installed", "")
	}
	if kind := cacheKind(path, info.Size()); kind != "" {
		fact(misconfig.IMGPkgCache, path+" is a package-manager cache file", kind)
	}
	return out
}

func octal(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}

func tmpPath(p string) bool {
	for _, t := range []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/run/lock/", "/var/lock/"} {
		if strings.HasPrefix(p, t) {
			return true
		}
	}
	return false
}

// homeCache matches /root/<rel>/… and /home/<user>/<rel>/….
func homeCache(p, rel string) bool {
	if strings.HasPrefix(p, "/root/"+rel+"/") {
		return true
	}
	if rest, ok := strings.CutPrefix(p, "/home/"); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			return strings.HasPrefix(rest[i+1:], rel+"/")
		}
	}
	return false
}

// cacheKind classifies a package-manager cache file, choosing a few small
// marker files per cache rather than every file.
func cacheKind(p string, size int64) string {
	name := p[strings.LastIndexByte(p, '/')+1:]
	switch {
	case strings.HasPrefix(p, "/var/lib/apt/lists/"):
		rest := p[len("/var/lib/apt/lists/"):]
		if !strings.Contains(rest, "/") && (strings.HasSuffix(name, "_InRelease") || strings.HasSuffix(name, "_Release")) {
			return "cache:apt-lists"
		}
	case strings.HasPrefix(p, "/var/cache/apt/archives/"):
		if strings.HasSuffix(name, ".deb") && size <= cacheFileMax {
			return "cache:apt-archives"
		}
	case strings.HasPrefix(p, "/var/cache/apk/"), strings.HasPrefix(p, "/etc/apk/cache/"):
		if strings.HasPrefix(name, "APKINDEX.") || strings.HasSuffix(name, ".apk") && size <= cacheFileMax {
			return "cache:apk"
		}
	case strings.HasPrefix(p, "/var/cache/yum/"), strings.HasPrefix(p, "/var/cache/dnf/"), strings.HasPrefix(p, "/var/cache/libdnf5/"):
		kind := "cache:dnf"
		if strings.HasPrefix(p, "/var/cache/yum/") {
			kind = "cache:yum"
		}
		if name == "repomd.xml" || strings.HasSuffix(name, ".rpm") && size <= cacheFileMax {
			return kind
		}
	case strings.HasPrefix(p, "/var/cache/zypp/"):
		if name == "repomd.xml" || strings.HasSuffix(name, ".rpm") && size <= cacheFileMax {
			return "cache:zypper"
		}
	case homeCache(p, ".cache/pip"):
		if size <= smallCacheFileMax {
			return "cache:pip"
		}
	case homeCache(p, ".npm/_cacache"):
		if strings.Contains(p, "/_cacache/index-v5/") && size <= smallCacheFileMax {
			return "cache:npm"
		}
	case homeCache(p, ".cache/yarn"), strings.HasPrefix(p, "/usr/local/share/.cache/yarn/"):
		if name == ".yarn-metadata.json" && size <= smallCacheFileMax {
			return "cache:yarn"
		}
	}
	return ""
}
