package kubernetes

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// hardened is a pod spec body (under "spec:" at 2 spaces) that passes
// every check, for tests that change one thing.
const hardened = `  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: r.example/app:1@sha256:0000000000000000000000000000000000000000000000000000000000000000
    resources: {requests: {cpu: 10m, memory: 10Mi}, limits: {memory: 20Mi}}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`

func scan(t *testing.T, y string) []string {
	t.Helper()
	fs, err := Scan(t.Context(), "m.yaml", []byte(y), misconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"@"+strconv.Itoa(f.Line)+" "+f.Resource)
	}
	return out
}

func TestHardenedPodIsClean(t *testing.T) {
	if got := scan(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"+hardened); len(got) != 0 {
		t.Errorf("findings: %v", got)
	}
}

func TestContainerOverridesPod(t *testing.T) {
	y := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + strings.Replace(hardened,
		"capabilities: {drop: [ALL]}}", "capabilities: {drop: [ALL]}, runAsNonRoot: false, seccompProfile: {type: Unconfined}}", 1)
	got := scan(t, y)
	want := []string{"BH-K8S-012@13 Pod/p container/app", "BH-K8S-014@13 Pod/p container/app"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEphemeralContainersAndInit(t *testing.T) {
	y := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + hardened +
		"  ephemeralContainers:\n  - name: debug\n    image: busybox:1.36@sha256:1111111111111111111111111111111111111111111111111111111111111111\n    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}, privileged: true}\n"
	got := scan(t, y)
	// No resources findings: ephemeral containers cannot have any.
	if diff := cmp.Diff([]string{"BH-K8S-001@17 Pod/p ephemeralContainer/debug"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestServiceAccountLaterInStream(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  serviceAccountName: api\n" +
		strings.TrimPrefix(hardened, "  automountServiceAccountToken: false\n")
	sa := "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: ns}\nautomountServiceAccountToken: false\n"
	if got := scan(t, pod+sa); len(got) != 0 {
		t.Errorf("a ServiceAccount with automount off later in the stream: %v", got)
	}
	// In another namespace it does not count.
	if got := scan(t, pod+strings.Replace(sa, "namespace: ns", "namespace: other", 1)); len(got) != 1 || !strings.HasPrefix(got[0], misconfig.K8SAutomountToken) {
		t.Errorf("findings: %v", got)
	}
}

func TestUnknownKindWithPodTemplate(t *testing.T) {
	y := "apiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata: {name: c}\nspec:\n  template:\n    spec:\n" +
		indent(hardened, "    ") +
		"---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec:\n  template:\n    metadata: {}\n"
	y = strings.Replace(y, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1)
	got := scan(t, y)
	if len(got) != 1 || !strings.HasPrefix(got[0], misconfig.K8SPrivEscalation) || !strings.Contains(got[0], "CloneSet/c container/app") {
		t.Errorf("findings: %v", got)
	}
}

func indent(s, p string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = p + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestNestedListsAndKinds(t *testing.T) {
	y := "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: PodList\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: deep}\n    spec:\n" +
		indent(strings.Replace(hardened, "automountServiceAccountToken: false", "hostIPC: true\n  automountServiceAccountToken: false", 1), "    ")
	got := scan(t, y)
	if diff := cmp.Diff([]string{"BH-K8S-004@11 Pod/deep"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBadDocumentsDoNotStopTheStream(t *testing.T) {
	y := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n" +
		strings.Replace(hardened, "automountServiceAccountToken: false", "hostPID: true\n  automountServiceAccountToken: false", 1)
	fs, err := Scan(t.Context(), "m.yaml", []byte(y), misconfig.Options{})
	if err == nil || !strings.Contains(err.Error(), "document at line 1") {
		t.Errorf("err = %v", err)
	}
	if len(fs) != 1 || fs[0].ID != misconfig.K8SHostPID || fs[0].Line != 10 {
		t.Errorf("findings of the good document: %+v", fs)
	}
}

func TestSkippedKindsAreNotParsed(t *testing.T) {
	// A CRD document that would not even parse is skipped by its kind.
	y := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: [ broken\n"
	if _, err := Scan(t.Context(), "crd.yaml", []byte(y), misconfig.Options{}); err != nil {
		t.Errorf("CRD parsed: %v", err)
	}
	if skippedKind([]byte("apiVersion: v1\nkind: \"ConfigMap\" # x\n")) != true || skippedKind([]byte("kind: Pod\n")) {
		t.Error("skippedKind")
	}
}

func TestTooLarge(t *testing.T) {
	_, err := Scan(t.Context(), "m.yaml", []byte(strings.Repeat("a: b\n", 100)), misconfig.Options{MaxBytes: 50})
	if !errors.Is(err, misconfig.ErrTooLarge) {
		t.Errorf("err = %v", err)
	}
}

func TestEveryWorkloadKind(t *testing.T) {
	tpl := indent("metadata: {labels: {a: b}}\nspec:\n"+strings.Replace(hardened, "automountServiceAccountToken: false", "hostNetwork: true\n  automountServiceAccountToken: false", 1), "    ")
	docs := map[string]string{
		"Deployment":            "spec:\n  template:\n" + tpl,
		"StatefulSet":           "spec:\n  template:\n" + tpl,
		"DaemonSet":             "spec:\n  template:\n" + tpl,
		"ReplicaSet":            "spec:\n  template:\n" + tpl,
		"ReplicationController": "spec:\n  template:\n" + tpl,
		"Job":                   "spec:\n  template:\n" + tpl,
		"CronJob":               "spec:\n  jobTemplate:\n    spec:\n      template:\n" + indent(tpl, "    "),
		"PodTemplate":           "template:\n" + indent("metadata: {labels: {a: b}}\nspec:\n"+strings.Replace(hardened, "automountServiceAccountToken: false", "hostNetwork: true\n  automountServiceAccountToken: false", 1), "  "),
	}
	var kinds []string
	for k := range docs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		got := scan(t, "apiVersion: x/v1\nkind: "+k+"\nmetadata: {name: w}\n"+docs[k])
		if len(got) != 1 || !strings.HasPrefix(got[0], misconfig.K8SHostNetwork) || !strings.HasSuffix(got[0], k+"/w") {
			t.Errorf("%s: findings %v", k, got)
		}
	}
}
