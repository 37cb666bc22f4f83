// Package kubernetes checks Kubernetes manifests — multi-document YAML or
// JSON, as written by hand or rendered by Helm or Kustomize — against the Pod
// Security Standards (baseline and restricted) and other workload hygiene:
// resources, read-only root filesystems, image pinning, service account
// tokens, runtime sockets and secrets in env values.
//
// Workloads are Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// CronJob, ReplicationController and PodTemplate, items of a List, and any
// other kind whose spec.template.spec has containers (Argo Rollouts,
// OpenKruise, …). Every finding carries the stream line of the offending
// field, or of the container/pod spec when a required field is missing.
package kubernetes

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

// Sniff reports whether data may hold Kubernetes objects: it mentions both
// apiVersion and kind. It is a cheap filter, not a parse.
func Sniff(data []byte) bool {
	return bytes.Contains(data, []byte("apiVersion")) && bytes.Contains(data, []byte("kind"))
}

// maxErrors bounds the document errors reported for one stream.
const maxErrors = 10

// Scan checks every document of a YAML or JSON stream. Documents that fail
// to parse are reported in the error (joined, with their line) and the
// others are still checked, so both results may be non-nil.
func Scan(ctx context.Context, path string, data []byte, opts misconfig.Options) ([]misconfig.Finding, error) {
	if int64(len(data)) > opts.Limit() {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, misconfig.ErrTooLarge, len(data), opts.Limit())
	}
	s := &scanner{path: path, opts: opts, noAutomountSA: map[string]bool{}}
	var errs []error
	for _, c := range yamlx.Split(data) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Empty() || skippedKind(c.Data) {
			continue
		}
		d, err := yamlx.Parse(c, 0)
		if err != nil {
			if len(errs) < maxErrors {
				errs = append(errs, err)
			}
			continue
		}
		if d.Root == nil {
			continue
		}
		s.sups = append(s.sups, d.Suppressions()...)
		s.object(d, d.Root, d.HelmSource(), 0)
	}
	s.resolveAutomount()
	out := misconfig.Filter(s.findings, s.sups, opts)
	var err error
	if len(errs) > 0 {
		err = fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return out, err
}

// skippedKinds hold no pod template and can be large (CRDs, dashboards in
// ConfigMaps): their documents are not parsed at all.
var skippedKinds = map[string]bool{
	"CustomResourceDefinition": true, "ConfigMap": true, "Secret": true, "Service": true, "Ingress": true,
	"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true, "NetworkPolicy": true,
	"PersistentVolumeClaim": true, "PersistentVolume": true, "StorageClass": true, "Namespace": true,
	"HorizontalPodAutoscaler": true, "PodDisruptionBudget": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "APIService": true, "PriorityClass": true, "LimitRange": true,
	"ResourceQuota": true, "Endpoints": true, "EndpointSlice": true, "IngressClass": true, "Lease": true,
	"Event": true, "ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

// skippedKind finds a block-style "kind: X" at column 0 without parsing.
func skippedKind(b []byte) bool {
	for rest := b; len(rest) > 0; {
		l := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if v, ok := bytes.CutPrefix(l, []byte("kind:")); ok {
			v = bytes.TrimSpace(v)
			if i := bytes.Index(v, []byte(" #")); i >= 0 {
				v = bytes.TrimSpace(v[:i])
			}
			return skippedKinds[string(bytes.Trim(v, `"'`))]
		}
	}
	return false
}

type pendingAutomount struct {
	f      misconfig.Finding
	sa, ns string
}

type scanner struct {
	path     string
	opts     misconfig.Options
	findings []misconfig.Finding
	sups     []misconfig.Suppression
	// ServiceAccounts in the stream with automountServiceAccountToken:
	// false, by namespace/name; pods using them do not get BH-K8S-027.
	noAutomountSA map[string]bool
	pending       []pendingAutomount
}

const maxListDepth = 4

// object dispatches one Kubernetes object.
func (s *scanner) object(d *yamlx.Doc, obj *yaml.Node, tmpl string, depth int) {
	if obj.Kind != yaml.MappingNode {
		return
	}
	kind := yamlx.Str(yamlx.Val(obj, "kind"))
	meta := yamlx.Val(obj, "metadata")
	name := yamlx.Str(yamlx.Val(meta, "name"))
	if name == "" {
		if g := yamlx.Str(yamlx.Val(meta, "generateName")); g != "" {
			name = g + "*"
		}
	}
	ns := yamlx.Str(yamlx.Val(meta, "namespace"))
	w := &workload{s: s, d: d, kind: kind, name: name, ns: ns, template: tmpl}
	switch kind {
	case "":
		return
	case "List":
		if depth < maxListDepth {
			for _, it := range yamlx.Items(yamlx.Val(obj, "items")) {
				s.object(d, it, tmpl, depth+1)
			}
		}
		return
	case "ServiceAccount":
		if v, ok := yamlx.Bool(yamlx.Val(obj, "automountServiceAccountToken")); ok && !v {
			s.noAutomountSA[ns+"/"+name] = true
		}
		return
	case "Pod":
		w.specKey, w.spec = yamlx.Get(obj, "spec")
		w.podMeta = meta
	case "CronJob":
		tpl := yamlx.Path(obj, "spec", "jobTemplate", "spec", "template")
		w.specKey, w.spec = yamlx.Get(tpl, "spec")
		w.podMeta = yamlx.Val(tpl, "metadata")
	case "PodTemplate":
		tpl := yamlx.Val(obj, "template")
		w.specKey, w.spec = yamlx.Get(tpl, "spec")
		w.podMeta = yamlx.Val(tpl, "metadata")
	default:
		if strings.HasSuffix(kind, "List") && yamlx.Val(obj, "items") != nil {
			if depth < maxListDepth {
				for _, it := range yamlx.Items(yamlx.Val(obj, "items")) {
					s.object(d, it, tmpl, depth+1)
				}
			}
			return
		}
		tpl := yamlx.Path(obj, "spec", "template")
		w.specKey, w.spec = yamlx.Get(tpl, "spec")
		w.podMeta = yamlx.Val(tpl, "metadata")
		if !workloadKinds[kind] && yamlx.Val(w.spec, "containers") == nil {
			return // not a pod template
		}
	}
	if w.spec == nil || w.spec.Kind != yaml.MappingNode {
		return
	}
	w.check()
}

var workloadKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true,
	"ReplicationController": true,
}

// resolveAutomount keeps BH-K8S-027 findings only for pods whose service
// account (when defined in the same stream) does not disable automounting.
func (s *scanner) resolveAutomount() {
	for _, p := range s.pending {
		if s.noAutomountSA[p.ns+"/"+p.sa] {
			continue
		}
		s.findings = append(s.findings, p.f)
	}
	s.pending = nil
}
