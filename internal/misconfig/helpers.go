package misconfig

import (
	"strings"
	"unicode"
)

// secretWords are name tokens that mark a variable as holding a secret.
var secretWords = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PASSPHRASE": true, "SECRET": true, "SECRETS": true,
	"TOKEN": true, "APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true, "PRIVATEKEY": true,
	"AUTHTOKEN": true, "ACCESSKEY": true, "SECRETKEY": true, "CLIENTSECRET": true,
}

// keyNotSecret are tokens that, next to KEY, make it public or not a key.
var keyNotSecret = map[string]bool{"GPG": true, "PGP": true, "PUBLIC": true, "PUB": true, "SIGNING_PUBLIC": true}

// notSecretSuffix are last tokens naming something about a secret, not the
// secret itself: DB_PASSWORD_FILE is a path, TOKEN_TTL a duration.
var notSecretSuffix = map[string]bool{
	"FILE": true, "PATH": true, "DIR": true, "DIRECTORY": true, "URL": true, "URI": true, "HOST": true, "PORT": true,
	"USER": true, "USERNAME": true, "NAME": true, "ID": true, "TYPE": true, "ENABLED": true, "ENABLE": true,
	"DISABLED": true, "REQUIRED": true, "LENGTH": true, "LEN": true, "MIN": true, "MAX": true, "EXPIRY": true,
	"EXPIRES": true, "EXPIRATION": true, "TTL": true, "TIMEOUT": true, "HEADER": true, "METHOD": true, "FIELD": true,
	"POLICY": true, "ALGORITHM": true, "ALG": true, "MODE": true, "VERSION": true, "FORMAT": true, "LOCATION": true,
	"REF": true, "ARN": true, "KEYRING": true, "SERVER": true, "KEYSERVER": true, "PROVIDER": true, "STORE": true,
	"SIZE": true, "BITS": true, "PREFIX": true, "REGEX": true, "PATTERN": true, "COUNT": true, "RESET": true,
	"HASH": true, "HASHED": true, "ROTATION": true, "REFRESH": true, "LIFETIME": true, "SOURCE": true, "ENV": true,
}

// SecretName reports whether an environment variable or build argument name
// looks like it holds a credential: DB_PASSWORD, GITHUB_TOKEN, apiKey,
// AWS_SECRET_ACCESS_KEY. Public keys (GPG_KEY), paths (PASSWORD_FILE) and
// settings about secrets (TOKEN_TTL) do not.
func SecretName(name string) bool {
	toks := nameTokens(name)
	if len(toks) == 0 {
		return false
	}
	if len(toks) == 1 && (toks[0] == "PWD" || toks[0] == "OLDPWD") {
		return false // the shell's working directory
	}
	if notSecretSuffix[toks[len(toks)-1]] {
		return false
	}
	for i, t := range toks {
		if secretWords[t] || t == "PWD" {
			return true
		}
		if t == "KEY" || t == "KEYS" {
			if i > 0 && keyNotSecret[toks[i-1]] {
				continue
			}
			if i > 0 || len(toks) == 1 {
				return true
			}
		}
		if t == "AUTH" && i == len(toks)-1 && i > 0 {
			return true // NPM_AUTH, BASIC_AUTH
		}
	}
	return false
}

// nameTokens splits a variable name into upper-case words on '_', '-', '.'
// and lower-to-upper case changes: "apiKey" → [API KEY].
func nameTokens(name string) []string {
	var toks []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return toks
}

// SecretValue reports whether value, assigned to a variable that SecretName
// accepts, is worth reporting: not empty, not a boolean or a number-like
// switch (ALLOW_EMPTY_PASSWORD=yes), not a path to a mounted secret.
func SecretValue(value string) bool {
	v := strings.TrimSpace(strings.Trim(strings.TrimSpace(value), `"'`))
	if v == "" {
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil", "-":
		return false
	}
	if strings.HasPrefix(v, "/run/secrets/") || strings.HasPrefix(v, "/var/run/secrets/") {
		return false
	}
	return true
}

// ImageRef is an image reference split into its parts.
type ImageRef struct {
	Name   string // registry/repository
	Tag    string
	Digest string // "sha256:…"
}

// ParseImageRef splits "registry:5000/app:1.2@sha256:…". It does not
// validate; a reference with unexpanded variables is returned as is.
func ParseImageRef(ref string) ImageRef {
	var r ImageRef
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, r.Digest = ref[:i], ref[i+1:]
	}
	slash := strings.LastIndexByte(ref, '/')
	if i := strings.LastIndexByte(ref, ':'); i > slash {
		ref, r.Tag = ref[:i], ref[i+1:]
	}
	r.Name = ref
	return r
}

// Unpinned reports whether the reference floats: no digest and the tag is
// empty or "latest".
func (r ImageRef) Unpinned() bool {
	return r.Digest == "" && (r.Tag == "" || r.Tag == "latest")
}

// DangerousCaps are capabilities that make a container nearly privileged.
var DangerousCaps = map[string]bool{
	"ALL": true, "SYS_ADMIN": true, "SYS_MODULE": true, "SYS_PTRACE": true, "SYS_RAWIO": true,
	"DAC_READ_SEARCH": true, "NET_ADMIN": true, "BPF": true, "SYS_BOOT": true, "MAC_ADMIN": true, "MAC_OVERRIDE": true,
}

// NormalizeCap upper-cases a capability name and strips "CAP_".
func NormalizeCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// DockerDefaultCaps is the capability set Docker (and containerd) grant
// every container by default.
var DockerDefaultCaps = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true, "KILL": true,
	"MKNOD": true, "NET_BIND_SERVICE": true, "NET_RAW": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true,
	"SETUID": true, "SYS_CHROOT": true,
}

// ManagementPorts are ports of remote-login and management services that
// have no place in an application container.
var ManagementPorts = map[int]string{
	22: "SSH", 23: "telnet", 2375: "Docker API (plain)", 2376: "Docker API (TLS)", 3389: "RDP", 5900: "VNC",
	5985: "WinRM", 5986: "WinRM", 10250: "kubelet", 2379: "etcd", 2380: "etcd peer",
}

// RuntimeSocket reports whether a host path is a container runtime's API
// socket or the directory holding it.
func RuntimeSocket(p string) bool {
	p = strings.TrimRight(p, "/")
	switch p {
	case "/var/run/docker.sock", "/run/docker.sock", "/var/run/docker", "/run/docker",
		"/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/run/containerd", "/var/run/containerd",
		"/var/run/crio/crio.sock", "/run/crio/crio.sock", "/var/run/crio", "/run/crio",
		"/run/podman/podman.sock", "/var/run/podman/podman.sock",
		"/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock", "/var/run", "/run":
		return true
	}
	return strings.HasSuffix(p, "/docker.sock") || strings.HasSuffix(p, "/containerd.sock") ||
		strings.HasSuffix(p, "/crio.sock") || strings.HasSuffix(p, "/podman.sock")
}

// SensitiveHostPath reports whether mounting host path p hands the container
// the host's configuration, credentials or kernel interfaces.
func SensitiveHostPath(p string) bool {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return true // "/"
	}
	for _, s := range []string{"/etc", "/proc", "/sys", "/boot", "/dev", "/root", "/var/lib/docker", "/var/lib/kubelet",
		"/var/lib/containerd", "/usr", "/lib", "/bin", "/sbin", "/home", "/var/log", "/etc/kubernetes"} {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}
