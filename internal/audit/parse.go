package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on untrusted host files.
const (
	maxFileSize = 4 << 20 // any one file read under --root
	maxLine     = 64 << 10
)

// Mount is one mounted (or fstab-listed) filesystem.
type Mount struct {
	MountPoint string
	Source     string
	FSType     string
}

// ParseMountinfo reads /proc/PID/mountinfo lines:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
//
// Malformed lines are skipped.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	err := eachLine(r, func(line string) {
		f := strings.Fields(line)
		if len(f) < 7 {
			return
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		m := Mount{MountPoint: unescapeOctal(f[4])}
		if sep > 0 && sep+2 < len(f) {
			m.FSType, m.Source = f[sep+1], unescapeOctal(f[sep+2])
		}
		out = append(out, m)
	})
	return out, err
}

// ParseMounts reads /proc/mounts or /etc/fstab lines (source, mount
// point, type, ...); comments and malformed lines are skipped.
func ParseMounts(r io.Reader) ([]Mount, error) {
	var out []Mount
	err := eachLine(r, func(line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return
		}
		out = append(out, Mount{Source: unescapeOctal(f[0]), MountPoint: unescapeOctal(f[1]), FSType: f[2]})
	})
	return out, err
}

// unescapeOctal decodes the \040-style escapes the kernel writes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// AuditRule is one watch in an audit rules file or `auditctl -l` output.
type AuditRule struct {
	Path string // the watched file or directory
	Line string
}

// ParseAuditRules reads auditd rules and returns the paths they watch:
// `-w PATH ...` and `-a ... -F path=PATH` / `-F dir=PATH` syscall rules.
func ParseAuditRules(r io.Reader) ([]AuditRule, error) {
	var out []AuditRule
	err := eachLine(r, func(line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		f := strings.Fields(line)
		for i := 0; i < len(f); i++ {
			switch {
			case f[i] == "-w" && i+1 < len(f):
				out = append(out, AuditRule{Path: f[i+1], Line: line})
				i++
			case strings.HasPrefix(f[i], "-w") && len(f[i]) > 2:
				out = append(out, AuditRule{Path: f[i][2:], Line: line})
			case f[i] == "-F" && i+1 < len(f):
				k, v, ok := strings.Cut(f[i+1], "=")
				if ok && (k == "path" || k == "dir") && v != "" {
					out = append(out, AuditRule{Path: v, Line: line})
				}
				i++
			}
		}
	})
	return out, err
}

// ParseGroupMembers returns the members of group name in an /etc/group
// file, and whether the group exists.
func ParseGroupMembers(r io.Reader, name string) (members []string, found bool, err error) {
	err = eachLine(r, func(line string) {
		f := strings.Split(line, ":")
		if len(f) < 4 || f[0] != name {
			return
		}
		found = true
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
	})
	return members, found, err
}

func eachLine(r io.Reader, fn func(string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line is longer than %d bytes", maxLine)
		}
		return err
	}
	return nil
}

// DaemonConfig is the part of daemon.json and of dockerd's flags the
// audit reads. Pointers tell "unset" from "false".
type DaemonConfig struct {
	ICC                  *bool             `json:"icc"`
	UsernsRemap          string            `json:"userns-remap"`
	LiveRestore          *bool             `json:"live-restore"`
	Hosts                []string          `json:"hosts"`
	TLS                  *bool             `json:"tls"`
	TLSVerify            *bool             `json:"tlsverify"`
	TLSCACert            string            `json:"tlscacert"`
	TLSCert              string            `json:"tlscert"`
	TLSKey               string            `json:"tlskey"`
	NoNewPrivileges      *bool             `json:"no-new-privileges"`
	DefaultUlimits       map[string]any    `json:"default-ulimits"`
	LogDriver            string            `json:"log-driver"`
	LogOpts              map[string]string `json:"log-opts"`
	LogLevel             string            `json:"log-level"`
	InsecureRegistries   []string          `json:"insecure-registries"`
	Experimental         *bool             `json:"experimental"`
	AuthorizationPlugins []string          `json:"authorization-plugins"`
	UserlandProxy        *bool             `json:"userland-proxy"`
	IPTables             *bool             `json:"iptables"`
	StorageDriver        string            `json:"storage-driver"`
	CgroupParent         string            `json:"cgroup-parent"`
	SeccompProfile       string            `json:"seccomp-profile"`
	DataRoot             string            `json:"data-root"`
}

// ParseDaemonConfig decodes daemon.json. Unknown keys are ignored, as
// dockerd's own validation is not the audit's job; a value of the wrong
// type is an error (dockerd would not start with it either).
func ParseDaemonConfig(b []byte) (*DaemonConfig, error) {
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("daemon.json is larger than %d bytes", maxFileSize)
	}
	var c DaemonConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return &c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("daemon.json: %w", err)
	}
	// dockerd refuses a file with anything after the object: so do we,
	// rather than audit settings the daemon never loaded.
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("daemon.json: data after the JSON object (dockerd would refuse to start with this file)")
	}
	return &c, nil
}

// ParseDockerdArgs folds dockerd's command line (argv after the program
// name) into c: flags given on the command line override daemon.json, as
// dockerd itself refuses conflicts.
func ParseDockerdArgs(args []string, c *DaemonConfig) {
	t, f := true, false
	boolp := func(v string, has bool) *bool {
		if !has {
			return &t
		}
		if b, err := strconv.ParseBool(v); err == nil && !b {
			return &f
		}
		return &t
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if rest, ok := strings.CutPrefix(a, "-H"); ok && rest != "" && !strings.HasPrefix(a, "--") && !has {
			// Go's flag parsing does not take "-Htcp://...", but pflag's
			// shorthand does, and so does dockerd: a socket either way.
			name, val, has = "H", rest, true
		}
		next := func() string {
			if has {
				return val
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch name {
		case "icc":
			c.ICC = boolp(val, has)
		case "userns-remap":
			c.UsernsRemap = next()
		case "live-restore":
			c.LiveRestore = boolp(val, has)
		case "H", "host":
			c.Hosts = append(c.Hosts, next())
		case "tls":
			c.TLS = boolp(val, has)
		case "tlsverify":
			c.TLSVerify = boolp(val, has)
		case "tlscacert":
			c.TLSCACert = next()
		case "tlscert":
			c.TLSCert = next()
		case "tlskey":
			c.TLSKey = next()
		case "no-new-privileges":
			c.NoNewPrivileges = boolp(val, has)
		case "default-ulimit":
			if c.DefaultUlimits == nil {
				c.DefaultUlimits = map[string]any{}
			}
			v := next()
			k, _, _ := strings.Cut(v, "=")
			c.DefaultUlimits[k] = v
		case "log-driver":
			c.LogDriver = next()
		case "l", "log-level":
			c.LogLevel = next()
		case "insecure-registry":
			c.InsecureRegistries = append(c.InsecureRegistries, next())
		case "experimental":
			c.Experimental = boolp(val, has)
		case "authorization-plugin":
			c.AuthorizationPlugins = append(c.AuthorizationPlugins, next())
		case "userland-proxy":
			c.UserlandProxy = boolp(val, has)
		case "iptables":
			c.IPTables = boolp(val, has)
		case "s", "storage-driver":
			c.StorageDriver = next()
		case "cgroup-parent":
			c.CgroupParent = next()
		case "seccomp-profile":
			c.SeccompProfile = next()
		case "data-root", "g", "graph":
			c.DataRoot = next()
		}
	}
}
