// Package compose checks Docker Compose files (compose.yaml,
// docker-compose.yml; the v2/v3 formats and the Compose Specification share
// the service keys checked here). YAML anchors and merge keys
// (x-defaults: &defaults … <<: *defaults) are followed, and ${VAR:-default}
// interpolation is applied with the defaults, so "${BIND:-127.0.0.1}:80:80"
// is read as bound to loopback.
package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/yamlx"
)

// Sniff reports whether data looks like a Compose file: a top-level
// "services:" key at column 0.
func Sniff(data []byte) bool {
	return bytes.HasPrefix(data, []byte("services:")) || bytes.Contains(data, []byte("\nservices:"))
}

// Scan checks a Compose file.
func Scan(ctx context.Context, path string, data []byte, opts misconfig.Options) ([]misconfig.Finding, error) {
	if int64(len(data)) > opts.Limit() {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, misconfig.ErrTooLarge, len(data), opts.Limit())
	}
	s := &scanner{path: path}
	var errs []error
	for _, c := range yamlx.Split(data) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Empty() {
			continue
		}
		d, err := yamlx.Parse(c, 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d.Root == nil {
			continue
		}
		s.d = d
		s.sups = append(s.sups, d.Suppressions()...)
		for _, kv := range yamlx.Pairs(yamlx.Val(d.Root, "services")) {
			if kv[1] != nil && kv[1].Kind == yaml.MappingNode {
				s.service(kv[0], kv[1])
			}
		}
	}
	out := misconfig.Filter(s.findings, s.sups, opts)
	var err error
	if len(errs) > 0 {
		err = fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return out, err
}

type scanner struct {
	path     string
	d        *yamlx.Doc
	findings []misconfig.Finding
	sups     []misconfig.Suppression
}

func (s *scanner) add(id string, n *yaml.Node, res, msg string) *misconfig.Finding {
	f := misconfig.New(id).At(s.path, s.d.Line(n))
	f.Resource = res
	if msg != "" {
		f.Message = msg
	}
	s.findings = append(s.findings, f)
	return &s.findings[len(s.findings)-1]
}

// interpolate applies ${VAR:-default} / ${VAR-default} defaults and drops
// variables without one; $$ is a literal $.
func interpolate(v string) string {
	if !strings.Contains(v, "$") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '$' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		switch {
		case v[i+1] == '$':
			b.WriteByte('$')
			i++
		case v[i+1] == '{':
			j := strings.IndexByte(v[i:], '}')
			if j < 0 {
				b.WriteString(v[i:])
				return b.String()
			}
			expr := v[i+2 : i+j]
			// ${VAR:-default} and ${VAR-default} give the default;
			// ${VAR:?error} and ${VAR:+alt} give nothing we can know.
			if k := strings.IndexAny(expr, ":-?+"); k > 0 {
				op := expr[k:]
				if strings.HasPrefix(op, ":-") {
					b.WriteString(op[2:])
				} else if op[0] == '-' {
					b.WriteString(op[1:])
				}
			}
			i += j
		default:
			j := i + 1
			for j < len(v) && (v[j] == '_' || v[j] >= 'a' && v[j] <= 'z' || v[j] >= 'A' && v[j] <= 'Z' || v[j] >= '0' && v[j] <= '9') {
				j++
			}
			i = j - 1
		}
	}
	return b.String()
}

func str(n *yaml.Node) string { return interpolate(yamlx.Str(n)) }

func (s *scanner) service(key, svc *yaml.Node) {
	name := key.Value
	res := "service/" + name

	if k, v := yamlx.Get(svc, "privileged"); k != nil {
		if b, _ := yamlx.Bool(&yaml.Node{Kind: yaml.ScalarNode, Value: str(v)}); b {
			f := s.add(misconfig.CMPPrivileged, k, res, fmt.Sprintf("service %s runs privileged", name))
			f.Fix = "privileged: false   # or remove the line"
		}
	}
	for _, h := range []struct{ key, id string }{
		{"network_mode", misconfig.CMPHostNetwork}, {"pid", misconfig.CMPHostPID}, {"ipc", misconfig.CMPHostIPC},
	} {
		if k, v := yamlx.Get(svc, h.key); k != nil && str(v) == "host" {
			f := s.add(h.id, k, res, fmt.Sprintf("service %s sets %s: host", name, h.key))
			f.Fix = fmt.Sprintf("Remove %s: host.", h.key)
		}
	}
	for _, c := range yamlx.Items(yamlx.Val(svc, "cap_add")) {
		cp := misconfig.NormalizeCap(str(c))
		switch {
		case cp == "":
		case misconfig.DangerousCaps[cp]:
			s.add(misconfig.CMPDangerousCaps, c, res, fmt.Sprintf("service %s adds capability %s", name, cp))
		case !misconfig.DockerDefaultCaps[cp]:
			s.add(misconfig.CMPCapAdd, c, res, fmt.Sprintf("service %s adds capability %s", name, cp))
		}
	}
	s.volumes(svc, name, res)
	s.ports(svc, name, res)
	for _, o := range yamlx.Items(yamlx.Val(svc, "security_opt")) {
		opt := strings.ToLower(strings.ReplaceAll(str(o), " ", ""))
		k, v, _ := strings.Cut(strings.Replace(opt, ":", "=", 1), "=")
		if (k == "seccomp" || k == "apparmor" || k == "systempaths") && v == "unconfined" || k == "label" && v == "disable" {
			f := s.add(misconfig.CMPSecurityOpt, o, res, fmt.Sprintf("service %s sets security_opt %s", name, str(o)))
			f.Fix = fmt.Sprintf("Remove %q from security_opt.", str(o))
		}
	}
	if k, v := yamlx.Get(svc, "user"); k == nil {
		f := s.add(misconfig.CMPNoUser, key, res, fmt.Sprintf("service %s does not set user, so it runs as the image's user (root for most images)", name))
		f.Fix = fmt.Sprintf("services:\n  %s:\n    user: \"10001:10001\"", name)
	} else if u := str(v); u != "" {
		if n, _, _ := strings.Cut(u, ":"); n == "root" || n == "0" {
			f := s.add(misconfig.CMPNoUser, k, res, fmt.Sprintf("service %s sets user: %s", name, u))
			f.Fix = "user: \"10001:10001\""
		}
	}
	s.environment(svc, name, res)
	if k, v := yamlx.Get(svc, "image"); k != nil && yamlx.Val(svc, "build") == nil {
		img := str(v)
		if img != "" && misconfig.ParseImageRef(img).Unpinned() {
			f := s.add(misconfig.CMPLatestTag, k, res, fmt.Sprintf("service %s uses image %s", name, img))
			f.Fix = fmt.Sprintf("image: %s:<version>", misconfig.ParseImageRef(img).Name)
		}
	}
}

// hostSource returns the host path of a bind mount ("" for named volumes).
func hostSource(src string) string {
	src = strings.ReplaceAll(src, `\`, "/")
	if strings.HasPrefix(src, "//") && !strings.HasPrefix(src, "//./") {
		src = src[1:] // Docker Desktop on Windows writes //var/run/docker.sock
	}
	if strings.HasPrefix(src, "/") || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "~") {
		return src
	}
	return ""
}

func (s *scanner) volumes(svc *yaml.Node, name, res string) {
	for _, v := range yamlx.Items(yamlx.Val(svc, "volumes")) {
		var src string
		at := v
		switch v.Kind {
		case yaml.ScalarNode:
			spec := str(v)
			// src:dst[:mode]; a Windows drive letter (C:\…) has a colon too.
			if len(spec) > 2 && isLetter(spec[0]) && spec[1] == ':' && (spec[2] == '\\' || spec[2] == '/') {
				spec = spec[2:]
			}
			parts := strings.Split(spec, ":")
			if len(parts) >= 2 {
				src = parts[0]
			}
		case yaml.MappingNode:
			if t := str(yamlx.Val(v, "type")); t != "" && t != "bind" {
				continue
			}
			src = str(yamlx.Val(v, "source"))
			if k, _ := yamlx.Get(v, "source"); k != nil {
				at = k
			}
		}
		if strings.Contains(strings.ReplaceAll(src, `\`, "/"), "//./pipe/docker_engine") {
			s.add(misconfig.CMPDockerSocket, at, res, fmt.Sprintf("service %s mounts the Docker engine pipe", name))
			continue
		}
		hp := hostSource(src)
		if hp == "" {
			continue
		}
		switch {
		case misconfig.RuntimeSocket(hp):
			msg := fmt.Sprintf("service %s mounts %s", name, hp)
			if !strings.HasSuffix(hp, ".sock") {
				msg += ", the directory holding the container runtime socket"
			}
			f := s.add(misconfig.CMPDockerSocket, at, res, msg)
			f.Fix = fmt.Sprintf("Remove the %s volume (a read-only mount does not help).", hp)
		case strings.HasPrefix(hp, "/") && misconfig.SensitiveHostPath(hp):
			s.add(misconfig.CMPSensitiveMount, at, res, fmt.Sprintf("service %s bind-mounts host path %s", name, hp))
		}
	}
}

// ports reports published ports without a host IP (or with a wildcard one).
func (s *scanner) ports(svc *yaml.Node, name, res string) {
	for _, p := range yamlx.Items(yamlx.Val(svc, "ports")) {
		var ip, spec string
		switch p.Kind {
		case yaml.ScalarNode:
			spec = str(p)
			spec, _, _ = strings.Cut(spec, "/")
			rest := spec
			if strings.HasPrefix(rest, "[") { // [::1]:8080:80
				if j := strings.IndexByte(rest, ']'); j > 0 {
					ip, rest = rest[1:j], strings.TrimPrefix(rest[j+1:], ":")
				}
			} else if parts := strings.Split(rest, ":"); len(parts) == 3 {
				ip = parts[0]
			}
		case yaml.MappingNode:
			ip = str(yamlx.Val(p, "host_ip"))
			spec = str(yamlx.Val(p, "published"))
			if spec == "" {
				spec = str(yamlx.Val(p, "target"))
			}
		default:
			continue
		}
		if ip != "" && ip != "0.0.0.0" && ip != "::" && ip != "*" {
			continue
		}
		f := s.add(misconfig.CMPPortAllIfaces, p, res, fmt.Sprintf("service %s publishes %s on all host interfaces", name, strings.TrimSpace(yamlx.Str(p)+mappingDesc(p))))
		if p.Kind == yaml.ScalarNode {
			f.Fix = fmt.Sprintf("- \"127.0.0.1:%s\"", strings.TrimPrefix(strings.TrimPrefix(str(p), ip+":"), "["+ip+"]:"))
		} else {
			f.Fix = "host_ip: 127.0.0.1"
		}
	}
}

func mappingDesc(p *yaml.Node) string {
	if p.Kind != yaml.MappingNode {
		return ""
	}
	return fmt.Sprintf("port %s->%s", str(yamlx.Val(p, "published")), str(yamlx.Val(p, "target")))
}

func (s *scanner) environment(svc *yaml.Node, name, res string) {
	env := yamlx.Val(svc, "environment")
	check := func(k, raw string, at *yaml.Node) {
		if !misconfig.SecretName(k) {
			return
		}
		v := interpolate(raw)
		if !misconfig.SecretValue(v) {
			return
		}
		msg := fmt.Sprintf("service %s sets %s to a literal value", name, k)
		if strings.Contains(raw, "${") {
			msg = fmt.Sprintf("service %s gives %s a literal default value", name, k)
		}
		f := s.add(misconfig.CMPSecretEnv, at, res, msg)
		f.Fix = fmt.Sprintf("%s: ${%s:?set %s in the environment or .env}", k, k, k)
	}
	switch {
	case env == nil:
	case env.Kind == yaml.MappingNode:
		for _, kv := range yamlx.Pairs(env) {
			check(kv[0].Value, yamlx.Str(kv[1]), kv[0])
		}
	case env.Kind == yaml.SequenceNode:
		for _, e := range yamlx.Items(env) {
			k, v, ok := strings.Cut(yamlx.Str(e), "=")
			if ok {
				check(k, v, e)
			}
		}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
