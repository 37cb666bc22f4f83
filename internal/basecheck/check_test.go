package basecheck

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// d returns a distinct fake layer digest for a name.
func d(name string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(name)))
}

func imageOf(names ...string) *inventory.Inventory {
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Type: inventory.ArtifactImage, Name: "app"}}
	for i, n := range names {
		inv.Artifact.Layers = append(inv.Artifact.Layers, inventory.Layer{Index: i, DiffID: d(n)})
	}
	return inv
}

func base(name string, layers ...string) Base {
	b := Base{Name: name, Ref: "registry.example/" + name}
	for _, l := range layers {
		b.DiffIDs = append(b.DiffIDs, d(l))
	}
	return b
}

func TestCheck(t *testing.T) {
	debian := base("debian-12", "deb")
	hardened := base("debian-12-hardened", "deb", "harden")
	python := base("python-3.12", "deb", "harden", "py")
	alpine := base("alpine-3.20", "alp")
	twin := base("aaa-debian-twin", "deb") // same layers as debian-12
	all := []Base{python, debian, hardened, alpine}
	tests := []struct {
		name     string
		inv      *inventory.Inventory
		approved []Base
		want     Result
		reason   []string
	}{
		{"on base", imageOf("deb", "app"), all,
			Result{Approved: true, Base: "debian-12", MatchedLayers: 1, BaseLayers: 1, ImageLayers: 2},
			[]string{"approved base debian-12", "bottom 1 layer of the image's 2"}},
		{"longest matching base wins", imageOf("deb", "harden", "py", "app1", "app2"), all,
			Result{Approved: true, Base: "python-3.12", MatchedLayers: 3, BaseLayers: 3, ImageLayers: 5}, nil},
		{"the base itself", imageOf("deb", "harden"), all,
			Result{Approved: true, Base: "debian-12-hardened", MatchedLayers: 2, BaseLayers: 2, ImageLayers: 2}, nil},
		{"same layers, ties by name", imageOf("deb", "app"), []Base{debian, twin},
			Result{Approved: true, Base: "aaa-debian-twin", MatchedLayers: 1, BaseLayers: 1, ImageLayers: 2}, nil},
		{"other base entirely", imageOf("ubuntu", "app"), []Base{python, hardened},
			Result{Nearest: "debian-12-hardened", DifferingLayers: 2, ImageLayers: 2},
			[]string{"not on an approved base", "no bottom layer in common with any of the 2 approved bases", "rebuild on an approved base"}},
		{"drift in the middle", imageOf("deb", "harden-v2", "py", "app"), []Base{python, hardened},
			Result{Nearest: "debian-12-hardened", MatchedLayers: 1, DifferingLayers: 1, ImageLayers: 4},
			[]string{"nearest approved base debian-12-hardened: 1 of its 2 layers match, 1 differ"}},
		{"nearest: longest prefix", imageOf("deb", "harden", "py-old", "app"), []Base{python, alpine},
			Result{Nearest: "python-3.12", MatchedLayers: 2, DifferingLayers: 1, ImageLayers: 4}, nil},
		{"image shorter than the base", imageOf("deb"), []Base{hardened},
			Result{Nearest: "debian-12-hardened", MatchedLayers: 1, DifferingLayers: 1, ImageLayers: 1},
			[]string{"only the bottom 1 layer of approved base debian-12-hardened"}},
		{"no approved list, declared base", withLabels(imageOf("deb", "app"), map[string]string{
			inventory.AnnotationBaseName: "docker.io/library/debian:12", inventory.AnnotationBaseDigest: "sha256:abc"}), nil,
			Result{Base: "docker.io/library/debian:12@sha256:abc", ImageLayers: 2, DeclaredBase: "docker.io/library/debian:12", DeclaredDigest: "sha256:abc"},
			[]string{"no approved base images are given", "declares its base as docker.io/library/debian:12@sha256:abc"}},
		{"no approved list, nothing declared", imageOf("deb"), nil, Result{ImageLayers: 1}, []string{"does not declare"}},
		{"declares an approved base but drifted", withLabels(imageOf("deb2", "app"), map[string]string{inventory.AnnotationBaseName: "registry.example/debian-12"}), all,
			Result{Base: "registry.example/debian-12", Nearest: "debian-12", DifferingLayers: 1, ImageLayers: 2, DeclaredBase: "registry.example/debian-12"},
			[]string{"declares approved base debian-12 but its layers are not that base's"}},
		{"filesystem", &inventory.Inventory{Artifact: inventory.Artifact{Type: inventory.ArtifactFilesystem}}, all, Result{}, []string{"not a container image"}},
		{"nil inventory", nil, all, Result{}, []string{"nothing was scanned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.inv, tt.approved)
			reason := got.Reason
			got.Reason = ""
			if got != tt.want {
				t.Errorf("Check =\n %+v\nwant\n %+v", got, tt.want)
			}
			for _, r := range tt.reason {
				if !strings.Contains(reason, r) {
					t.Errorf("reason %q lacks %q", reason, r)
				}
			}
			if reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func withLabels(inv *inventory.Inventory, labels map[string]string) *inventory.Inventory {
	inv.Artifact.Labels = labels
	return inv
}

func TestAnnotationsBeforeLabels(t *testing.T) {
	inv := imageOf("x")
	inv.Artifact.Labels = map[string]string{inventory.AnnotationBaseName: "from-label"}
	inv.Artifact.Annotations = map[string]string{inventory.AnnotationBaseName: "from-annotation"}
	if r := Check(inv, nil); r.DeclaredBase != "from-annotation" {
		t.Errorf("DeclaredBase = %q", r.DeclaredBase)
	}
}

func TestOrigin(t *testing.T) {
	r := Result{Approved: true, BaseLayers: 2}
	for i, want := range map[int]string{-1: "", 0: "base", 1: "base", 2: "app", 7: "app"} {
		if got := r.Origin(i); got != want {
			t.Errorf("Origin(%d) = %q, want %q", i, got, want)
		}
	}
	unknown := Result{Nearest: "x", MatchedLayers: 1}
	if unknown.Origin(0) != "" || unknown.Origin(3) != "" {
		t.Error("an unknown base labels layers")
	}
}

func TestBasesFileRoundTrip(t *testing.T) {
	added := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := []Base{
		{Name: "python", Ref: "registry.example/python:3.12", Digest: d("m1"), ConfigDigest: d("c1"), Added: added, DiffIDs: []string{d("deb"), d("py")}},
		{Name: "debian-12", Ref: "docker-archive:debian.tar", DiffIDs: []string{d("deb")}},
	}
	var buf bytes.Buffer
	if err := WriteBases(&buf, in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: bulkhead.dev/v1\n", "kind: BaseImages\n", "  - name: debian-12\n", "added: 2026-11-28T10:00:00Z"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("file lacks %q:\n%s", want, buf.String())
		}
	}
	p := filepath.Join(t.TempDir(), "bases.yaml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadBases(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "debian-12" || got[1].Name != "python" || got[0].Source != p+"#0" ||
		!got[1].Added.Equal(added) || got[1].Digest != in[0].Digest || len(got[1].DiffIDs) != 2 || got[1].DiffIDs[1] != d("py") {
		t.Errorf("read back %+v", got)
	}

	merged := Merge(got, []Base{{Name: "python", DiffIDs: []string{d("deb"), d("py2")}}, {Name: "alpine", DiffIDs: []string{d("alp")}}})
	var names []string
	for _, b := range merged {
		names = append(names, b.Name)
	}
	if strings.Join(names, ",") != "alpine,debian-12,python" || merged[2].DiffIDs[1] != d("py2") {
		t.Errorf("merged = %+v", merged)
	}
}

func TestLoadBasesErrors(t *testing.T) {
	good := d("x")
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"empty", "", []string{"empty file"}},
		{"wrong kind", "apiVersion: bulkhead.dev/v1\nkind: Policy\n", []string{`kind "Policy"`, "want apiVersion bulkhead.dev/v1, kind BaseImages"}},
		{"no apiVersion", "kind: BaseImages\nbases: []\n", []string{`apiVersion ""`}},
		{"yaml syntax", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - name: [\n", []string{"line"}},
		{"unknown field", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - name: a\n    diffIds: [" + good + "]\n", []string{"line 5", "diffIds"}},
		{"no name", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - diffIDs: [" + good + "]\n", []string{"bases[0] has no name"}},
		{"no layers", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - name: a\n", []string{"bases[0] (a) has no diffIDs"}},
		{"bad digest", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - name: a\n    diffIDs: [sha256:abc]\n", []string{`bases[0] (a): diffIDs[0] "sha256:abc" is not a layer digest`}},
		{"duplicate", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - name: a\n    diffIDs: [" + good + "]\n  - name: a\n    diffIDs: [" + good + "]\n",
			[]string{"bases[1] (a): the name is already used by bases[0]"}},
		{"wrong type", "apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases: {}\n", []string{"line 3"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "bases.yaml")
			if err := os.WriteFile(p, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadBases(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.want, p, "bulkhead policy baseline") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// JSON is YAML too.
	p := filepath.Join(dir, "bases.json")
	os.WriteFile(p, []byte(`{"apiVersion":"bulkhead.dev/v1","kind":"BaseImages","bases":[{"name":"a","diffIDs":["`+good+`"]}]}`), 0o644)
	if b, err := LoadBases(p); err != nil || len(b) != 1 {
		t.Errorf("JSON file: %v %+v", err, b)
	}
}
