package kubernetes

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/yamlx"
)

// workload is one pod template being checked.
type workload struct {
	s          *scanner
	d          *yamlx.Doc
	kind, name string
	ns         string
	template   string
	specKey    *yaml.Node // the "spec:" key whose value is the PodSpec
	spec       *yaml.Node // PodSpec
	podMeta    *yaml.Node // the pod's metadata (annotations)
	// windows: spec.os.name is windows; Linux-only controls (seccomp,
	// capabilities, AppArmor, SELinux, procMount, UIDs, read-only root
	// filesystem, privilege escalation) do not apply.
	windows bool
}

func (w *workload) resource() string { return w.kind + "/" + w.name }

func (w *workload) add(id string, n *yaml.Node, resource, msg string) *misconfig.Finding {
	f := misconfig.New(id).At(w.s.path, w.d.Line(n))
	f.Resource = resource
	f.Template = w.template
	if msg != "" {
		f.Message = msg
	}
	w.s.findings = append(w.s.findings, f)
	return &w.s.findings[len(w.s.findings)-1]
}

// container is one entry of containers, initContainers or ephemeralContainers.
type container struct {
	node  *yaml.Node
	name  string
	role  string // container, initContainer, ephemeralContainer
	sc    *yaml.Node
	scKey *yaml.Node
}

func (w *workload) containers() []container {
	var out []container
	for _, f := range []struct{ key, role string }{
		{"initContainers", "initContainer"}, {"containers", "container"}, {"ephemeralContainers", "ephemeralContainer"},
	} {
		for _, c := range yamlx.Items(yamlx.Val(w.spec, f.key)) {
			if c.Kind != yaml.MappingNode {
				continue
			}
			k, sc := yamlx.Get(c, "securityContext")
			out = append(out, container{node: c, name: yamlx.Str(yamlx.Val(c, "name")), role: f.role, sc: sc, scKey: k})
		}
	}
	return out
}

func (w *workload) check() {
	psc := yamlx.Val(w.spec, "securityContext")
	w.windows = strings.EqualFold(yamlx.Str(yamlx.Path(w.spec, "os", "name")), "windows")
	res := w.resource()
	w.hostNamespaces(res)
	w.volumes(res)
	w.sysctls(res, psc)
	w.podSELinuxAndHostProcess(res, psc)
	w.automount(res)
	for _, c := range w.containers() {
		w.container(c, psc)
	}
}

func (w *workload) hostNamespaces(res string) {
	for _, h := range []struct{ key, id string }{
		{"hostNetwork", misconfig.K8SHostNetwork}, {"hostPID", misconfig.K8SHostPID}, {"hostIPC", misconfig.K8SHostIPC},
	} {
		if k, v := yamlx.Get(w.spec, h.key); k != nil {
			if b, _ := yamlx.Bool(v); b {
				f := w.add(h.id, k, res, fmt.Sprintf("%s sets %s: true", res, h.key))
				f.Fix = fmt.Sprintf("Remove %s: true from the pod spec.", h.key)
			}
		}
	}
}

// restrictedVolumes are the volume types the restricted profile allows.
var restrictedVolumes = map[string]bool{
	"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
	"persistentVolumeClaim": true, "projected": true, "secret": true,
}

func (w *workload) volumes(res string) {
	for _, v := range yamlx.Items(yamlx.Val(w.spec, "volumes")) {
		name := yamlx.Str(yamlx.Val(v, "name"))
		for _, kv := range yamlx.Pairs(v) {
			typ := kv[0].Value
			if typ == "name" {
				continue
			}
			switch {
			case typ == "hostPath":
				p := yamlx.Str(yamlx.Val(kv[1], "path"))
				if misconfig.RuntimeSocket(p) {
					f := w.add(misconfig.K8SRuntimeSocket, kv[0], res,
						fmt.Sprintf("volume %s mounts the container runtime socket %s from the node", name, p))
					f.Fix = fmt.Sprintf("Remove volume %s (hostPath %s) and its volumeMounts.", name, p)
					continue
				}
				msg := fmt.Sprintf("volume %s mounts host path %s", name, p)
				if misconfig.SensitiveHostPath(p) {
					msg += " (a sensitive system directory)"
				}
				w.add(misconfig.K8SHostPath, kv[0], res, msg)
			case !restrictedVolumes[typ]:
				w.add(misconfig.K8SVolumeTypes, kv[0], res, fmt.Sprintf("volume %s has type %s", name, typ))
			}
		}
	}
}

// safeSysctls are the sysctls the baseline profile allows.
var safeSysctls = map[string]bool{
	"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true, "net.ipv4.ip_unprivileged_port_start": true,
	"net.ipv4.tcp_syncookies": true, "net.ipv4.ping_group_range": true, "net.ipv4.ip_local_reserved_ports": true,
	"net.ipv4.tcp_keepalive_time": true, "net.ipv4.tcp_fin_timeout": true, "net.ipv4.tcp_keepalive_intvl": true,
	"net.ipv4.tcp_keepalive_probes": true,
}

func (w *workload) sysctls(res string, psc *yaml.Node) {
	for _, s := range yamlx.Items(yamlx.Val(psc, "sysctls")) {
		name := yamlx.Str(yamlx.Val(s, "name"))
		if name != "" && !safeSysctls[name] {
			w.add(misconfig.K8SSysctls, s, res, fmt.Sprintf("%s sets sysctl %s", res, name))
		}
	}
}

var seLinuxTypes = map[string]bool{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true, "container_engine_t": true}

// seLinux reports custom SELinux options in sc (pod or container level).
func (w *workload) seLinux(res string, sc *yaml.Node) {
	k, o := yamlx.Get(sc, "seLinuxOptions")
	if k == nil || o == nil {
		return
	}
	var bad []string
	if t := yamlx.Str(yamlx.Val(o, "type")); !seLinuxTypes[t] {
		bad = append(bad, "type "+t)
	}
	if u := yamlx.Str(yamlx.Val(o, "user")); u != "" {
		bad = append(bad, "user "+u)
	}
	if r := yamlx.Str(yamlx.Val(o, "role")); r != "" {
		bad = append(bad, "role "+r)
	}
	if len(bad) > 0 {
		w.add(misconfig.K8SSELinux, k, res, fmt.Sprintf("%s sets SELinux %s", res, strings.Join(bad, ", ")))
	}
}

func (w *workload) hostProcess(res string, sc *yaml.Node) {
	wo := yamlx.Val(sc, "windowsOptions")
	if k, v := yamlx.Get(wo, "hostProcess"); k != nil {
		if b, _ := yamlx.Bool(v); b {
			w.add(misconfig.K8SHostProcess, k, res, res+" runs as a Windows HostProcess container")
		}
	}
}

func (w *workload) podSELinuxAndHostProcess(res string, psc *yaml.Node) {
	w.seLinux(res, psc)
	w.hostProcess(res, psc)
	// A pod-level Unconfined seccomp or AppArmor profile is reported once
	// per container below, where it takes effect.
}

// automount queues BH-K8S-027 unless the pod disables the token; the
// decision waits for ServiceAccounts later in the stream.
func (w *workload) automount(res string) {
	k, v := yamlx.Get(w.spec, "automountServiceAccountToken")
	if b, ok := yamlx.Bool(v); ok && !b {
		return
	}
	sa := yamlx.Str(yamlx.Val(w.spec, "serviceAccountName"))
	if sa == "" {
		sa = yamlx.Str(yamlx.Val(w.spec, "serviceAccount"))
	}
	if sa == "" {
		sa = "default"
	}
	at := w.specKey
	msg := fmt.Sprintf("%s mounts the API token of service account %s", res, sa)
	if k != nil {
		at = k
		msg = fmt.Sprintf("%s sets automountServiceAccountToken: true (service account %s)", res, sa)
	}
	f := misconfig.New(misconfig.K8SAutomountToken).At(w.s.path, w.d.Line(at))
	f.Resource, f.Template, f.Message = res, w.template, msg
	if k != nil {
		// An explicit true on the pod wins over the ServiceAccount.
		w.s.findings = append(w.s.findings, f)
		return
	}
	w.s.pending = append(w.s.pending, pendingAutomount{f: f, sa: sa, ns: w.ns})
}

// baselineCaps may be added under the baseline profile.
var baselineCaps = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true, "KILL": true,
	"MKNOD": true, "NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true, "SETUID": true,
	"SYS_CHROOT": true,
}

// at returns the first non-nil node: the offending field, else its parent.
func at(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

func (w *workload) container(c container, psc *yaml.Node) {
	res := w.resource() + " " + c.role + "/" + c.name
	sc := c.sc
	scAt := at(c.scKey, c.node)

	// Privileged.
	if k, v := yamlx.Get(sc, "privileged"); k != nil {
		if b, _ := yamlx.Bool(v); b {
			f := w.add(misconfig.K8SPrivileged, k, res, fmt.Sprintf("%s %s sets privileged: true", c.role, c.name))
			f.Fix = "securityContext:\n  privileged: false"
		}
	}

	// Host ports.
	for _, p := range yamlx.Items(yamlx.Val(c.node, "ports")) {
		if k, v := yamlx.Get(p, "hostPort"); k != nil {
			if n, ok := yamlx.Int(v); ok && n != 0 {
				w.add(misconfig.K8SHostPort, k, res, fmt.Sprintf("%s %s binds hostPort %d on the node", c.role, c.name, n))
			}
		}
	}

	w.hostProcess(res, sc)
	if !w.windows {
		w.linuxControls(c, res, psc, scAt)
	}

	// Resources (ephemeral containers cannot have any).
	if c.role != "ephemeralContainer" {
		rk, r := yamlx.Get(c.node, "resources")
		limits, requests := yamlx.Val(r, "limits"), yamlx.Val(r, "requests")
		if !yamlx.IsScalar(yamlx.Val(limits, "memory")) {
			w.add(misconfig.K8SMemoryLimit, at(rk, c.node), res, fmt.Sprintf("%s %s has no memory limit", c.role, c.name))
		}
		var missing []string
		for _, k := range []string{"cpu", "memory"} {
			// A limit without a request makes the request equal the limit.
			if !yamlx.IsScalar(yamlx.Val(requests, k)) && !yamlx.IsScalar(yamlx.Val(limits, k)) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			w.add(misconfig.K8SRequests, at(rk, c.node), res, fmt.Sprintf("%s %s requests no %s", c.role, c.name, strings.Join(missing, " or ")))
		}
	}

	// Image.
	if k, v := yamlx.Get(c.node, "image"); k != nil {
		img := yamlx.Str(v)
		if img != "" && !strings.ContainsAny(img, "${}") {
			ref := misconfig.ParseImageRef(img)
			switch {
			case ref.Unpinned():
				f := w.add(misconfig.K8SLatestTag, k, res, fmt.Sprintf("%s %s uses image %s", c.role, c.name, img))
				f.Fix = fmt.Sprintf("image: %s:<version>@sha256:<digest>", ref.Name)
			case ref.Digest == "":
				f := w.add(misconfig.K8SNoDigest, k, res, fmt.Sprintf("%s %s uses image %s without a digest", c.role, c.name, img))
				f.Fix = fmt.Sprintf("image: %s@sha256:<digest>", img)
			}
		}
	}

	// Runtime sockets are volumes (pod level); secrets in env are here.
	for _, e := range yamlx.Items(yamlx.Val(c.node, "env")) {
		name := yamlx.Str(yamlx.Val(e, "name"))
		vk, v := yamlx.Get(e, "value")
		if vk == nil || !misconfig.SecretName(name) {
			continue
		}
		val := yamlx.Str(v)
		if !misconfig.SecretValue(val) || isEnvRef(val) {
			continue
		}
		f := w.add(misconfig.K8SSecretEnv, vk, res, fmt.Sprintf("%s %s sets %s to a literal value", c.role, c.name, name))
		f.Fix = fmt.Sprintf("- name: %s\n  valueFrom:\n    secretKeyRef:\n      name: <secret>\n      key: <key>", name)
	}
}

// isEnvRef reports a value that is only a $(VAR) reference to another
// variable of the container.
func isEnvRef(v string) bool {
	return strings.HasPrefix(v, "$(") && strings.HasSuffix(v, ")") && !strings.Contains(v[2:], "$(")
}

func unconfined(s string) bool { return strings.EqualFold(s, "Unconfined") }

func seccompOK(s string) bool {
	switch {
	case s == "RuntimeDefault", s == "Localhost", s == "runtime/default", s == "docker/default", strings.HasPrefix(s, "localhost/"):
		return true
	}
	return false
}

func (w *workload) annotation(key string) (*yaml.Node, string) {
	k, v := yamlx.Get(yamlx.Val(w.podMeta, "annotations"), key)
	return k, yamlx.Str(v)
}

// seccomp resolves the effective profile: container field, container
// annotation, pod field, pod annotation.
func (w *workload) seccomp(c container, res string, psc, scAt *yaml.Node) {
	type src struct {
		n   *yaml.Node
		val string
	}
	var eff *src
	if k, p := yamlx.Get(c.sc, "seccompProfile"); k != nil {
		eff = &src{yamlx.Val(p, "type"), yamlx.Str(yamlx.Val(p, "type"))}
		if eff.n == nil {
			eff.n = k
		}
	} else if k, v := w.annotation("container.seccomp.security.alpha.kubernetes.io/" + c.name); k != nil {
		eff = &src{k, v}
	} else if k, p := yamlx.Get(psc, "seccompProfile"); k != nil {
		eff = &src{yamlx.Val(p, "type"), yamlx.Str(yamlx.Val(p, "type"))}
		if eff.n == nil {
			eff.n = k
		}
	} else if k, v := w.annotation("seccomp.security.alpha.kubernetes.io/pod"); k != nil {
		eff = &src{k, v}
	}
	switch {
	case eff != nil && unconfined(eff.val):
		w.add(misconfig.K8SSeccompUnconfined, eff.n, res, fmt.Sprintf("%s %s runs with seccomp profile %s", c.role, c.name, eff.val))
	case eff == nil || !seccompOK(eff.val):
		msg := fmt.Sprintf("%s %s has no seccomp profile", c.role, c.name)
		n := scAt
		if eff != nil {
			msg = fmt.Sprintf("%s %s has seccomp profile %q", c.role, c.name, eff.val)
			n = eff.n
		}
		w.add(misconfig.K8SSeccompMissing, n, res, msg)
	}
}

func (w *workload) apparmor(c container, res string, psc *yaml.Node) {
	if p := yamlx.Val(c.sc, "appArmorProfile"); p != nil {
		if t := yamlx.Val(p, "type"); unconfined(yamlx.Str(t)) {
			w.add(misconfig.K8SAppArmor, t, res, fmt.Sprintf("%s %s sets appArmorProfile Unconfined", c.role, c.name))
		}
		return
	}
	if k, v := w.annotation("container.apparmor.security.beta.kubernetes.io/" + c.name); k != nil {
		if unconfined(v) {
			w.add(misconfig.K8SAppArmor, k, res, fmt.Sprintf("%s %s is annotated AppArmor unconfined", c.role, c.name))
		}
		return
	}
	if p := yamlx.Val(psc, "appArmorProfile"); p != nil {
		if t := yamlx.Val(p, "type"); unconfined(yamlx.Str(t)) {
			w.add(misconfig.K8SAppArmor, t, res, fmt.Sprintf("%s %s inherits the pod's appArmorProfile Unconfined", c.role, c.name))
		}
	}
}

// linuxControls are the checks that only mean something on Linux nodes.
func (w *workload) linuxControls(c container, res string, psc, scAt *yaml.Node) {
	sc := c.sc
	capsKey, caps := yamlx.Get(sc, "capabilities")
	netRawAdded := false
	for _, a := range yamlx.Items(yamlx.Val(caps, "add")) {
		cp := misconfig.NormalizeCap(yamlx.Str(a))
		switch {
		case cp == "":
		case misconfig.DangerousCaps[cp]:
			w.add(misconfig.K8SDangerousCaps, a, res, fmt.Sprintf("%s %s adds capability %s", c.role, c.name, cp))
		case !baselineCaps[cp]:
			w.add(misconfig.K8SCapabilities, a, res, fmt.Sprintf("%s %s adds capability %s", c.role, c.name, cp))
		case cp != "NET_BIND_SERVICE":
			w.add(misconfig.K8SDropAll, a, res, fmt.Sprintf("%s %s adds capability %s; the restricted profile allows only NET_BIND_SERVICE", c.role, c.name, cp))
		}
		if cp == "NET_RAW" {
			netRawAdded = true
		}
	}
	dropped := map[string]bool{}
	for _, d := range yamlx.Items(yamlx.Val(caps, "drop")) {
		dropped[misconfig.NormalizeCap(yamlx.Str(d))] = true
	}
	switch {
	case dropped["ALL"]:
	case dropped["NET_RAW"]:
		w.add(misconfig.K8SDropAll, at(capsKey, scAt), res, fmt.Sprintf("%s %s drops some capabilities but not ALL", c.role, c.name))
	case netRawAdded:
		// BH-K8S-007 already says to remove it.
	default:
		w.add(misconfig.K8SNetRaw, at(capsKey, scAt), res, fmt.Sprintf("%s %s keeps the runtime's default NET_RAW capability", c.role, c.name))
	}

	// Privilege escalation.
	if k, v := yamlx.Get(sc, "allowPrivilegeEscalation"); k == nil {
		w.add(misconfig.K8SPrivEscalation, scAt, res, fmt.Sprintf("%s %s does not set allowPrivilegeEscalation: false", c.role, c.name))
	} else if b, ok := yamlx.Bool(v); !ok || b {
		w.add(misconfig.K8SPrivEscalation, k, res, fmt.Sprintf("%s %s sets allowPrivilegeEscalation: %s", c.role, c.name, yamlx.Str(v)))
	}

	// Non-root.
	nrK, nrV := yamlx.Get(sc, "runAsNonRoot")
	if nrK == nil {
		nrK, nrV = yamlx.Get(psc, "runAsNonRoot")
	}
	if b, ok := yamlx.Bool(nrV); !ok || !b {
		_, uV := yamlx.Get(sc, "runAsUser")
		if uV == nil {
			_, uV = yamlx.Get(psc, "runAsUser")
		}
		msg := fmt.Sprintf("%s %s does not set runAsNonRoot: true", c.role, c.name)
		if nrK != nil {
			msg = fmt.Sprintf("%s %s sets runAsNonRoot: %s", c.role, c.name, yamlx.Str(nrV))
		} else if u, ok := yamlx.Int(uV); ok && u != 0 {
			msg += fmt.Sprintf(" (runAsUser %d alone is not enough for the restricted policy)", u)
		}
		w.add(misconfig.K8SRunAsNonRoot, at(nrK, scAt), res, msg)
	}
	uK, uV := yamlx.Get(sc, "runAsUser")
	if uK == nil {
		uK, uV = yamlx.Get(psc, "runAsUser")
	}
	if u, ok := yamlx.Int(uV); ok && u == 0 {
		f := w.add(misconfig.K8SRunAsRoot, uK, res, fmt.Sprintf("%s %s runs as UID 0", c.role, c.name))
		f.Fix = "runAsUser: 10001\nrunAsNonRoot: true"
	}

	// Seccomp and AppArmor.
	w.seccomp(c, res, psc, scAt)
	w.apparmor(c, res, psc)

	// SELinux, procMount.
	w.seLinux(res, sc)
	if k, v := yamlx.Get(sc, "procMount"); k != nil {
		if pm := yamlx.Str(v); pm != "" && pm != "Default" {
			w.add(misconfig.K8SProcMount, k, res, fmt.Sprintf("%s %s sets procMount: %s", c.role, c.name, pm))
		}
	}

	// Read-only root filesystem.
	if k, v := yamlx.Get(sc, "readOnlyRootFilesystem"); k == nil {
		w.add(misconfig.K8SWritableRoot, scAt, res, fmt.Sprintf("%s %s does not set readOnlyRootFilesystem: true", c.role, c.name))
	} else if b, ok := yamlx.Bool(v); !ok || !b {
		w.add(misconfig.K8SWritableRoot, k, res, fmt.Sprintf("%s %s sets readOnlyRootFilesystem: %s", c.role, c.name, yamlx.Str(v)))
	}
}
