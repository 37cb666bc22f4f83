package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/basecheck"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/report"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// runPolicyBaseline runs `policy baseline ARGS...` through
// newPolicyBaselineCmd (the policy command group registers it).
func runPolicyBaseline(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{cacheDir: t.TempDir(), stdout: &out, stderr: &errb}
	cmd := newPolicyBaselineCmd(g)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	code = ExitOK
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		} else {
			code = ExitError
		}
		fmt.Fprintf(&errb, "bulkhead: %v\n", err)
	}
	return out.String(), errb.String(), code
}

// ociLayer is a layer of a test OCI layout: an existing blob (linked, not
// copied) or new content.
type ociLayer struct {
	blob      string // path of an existing blob
	digest    string
	diffID    string
	size      int64
	createdBy string
	raw       []byte // new content (an uncompressed tar), when blob is ""
}

// newLayer builds a small gzip layer holding files.
func newLayer(t *testing.T, createdBy string, files map[string]string) ociLayer {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, name := range sortedKeys(files) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return ociLayer{diffID: digestOf(raw.Bytes()), createdBy: createdBy, raw: raw.Bytes()}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// fixtureLayers returns the layers of the fixture OCI layout, to be linked
// into test layouts.
func fixtureLayers(t *testing.T, dir string) []ociLayer {
	t.Helper()
	target, err := source.Open(context.Background(), "oci-layout:"+dir, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Image.Close()
	var out []ociLayer
	for _, l := range target.Image.Layers {
		hexd := strings.TrimPrefix(l.Digest, "sha256:")
		out = append(out, ociLayer{blob: filepath.Join(dir, "blobs", "sha256", hexd), digest: l.Digest, diffID: l.DiffID, size: l.Size, createdBy: l.CreatedBy})
	}
	return out
}

// writeLayout writes an OCI image layout of layers (tagged tag) at dir.
func writeLayout(t *testing.T, dir, tag string, labels map[string]string, layers ...ociLayer) {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(b []byte) (string, int64) {
		d := digestOf(b)
		if err := os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d, int64(len(b))
	}
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	cfg := map[string]any{"architecture": "amd64", "os": "linux", "created": "2026-11-01T00:00:00Z",
		"config": map[string]any{"Labels": labels}, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{}}}
	var diffIDs []string
	var history []map[string]string
	var lds []desc
	for _, l := range layers {
		if l.blob != "" {
			if err := os.Symlink(l.blob, filepath.Join(blobs, strings.TrimPrefix(l.digest, "sha256:"))); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		} else {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(l.raw)
			zw.Close()
			l.digest, l.size = put(gz.Bytes())
		}
		diffIDs = append(diffIDs, l.diffID)
		history = append(history, map[string]string{"created_by": l.createdBy})
		lds = append(lds, desc{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: l.digest, Size: l.size})
	}
	cfg["rootfs"].(map[string]any)["diff_ids"] = diffIDs
	cfg["history"] = history
	cb, _ := json.Marshal(cfg)
	cd, cs := put(cb)
	mb, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd, Size: cs}, "layers": lds,
		"annotations": labels})
	md, ms := put(mb)
	ib, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []desc{{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: md, Size: ms,
			Annotations: map[string]string{"org.opencontainers.image.ref.name": tag}}}})
	os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// imageInventory opens ref as scan image does and returns an inventory
// with its layers, as the scan would record them.
func imageInventory(t *testing.T, ref string) *inventory.Inventory {
	t.Helper()
	target, err := source.Open(context.Background(), ref, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Image.Close()
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Type: inventory.ArtifactImage, Name: target.Image.Name}}
	for _, l := range target.Image.Layers {
		inv.Artifact.Layers = append(inv.Artifact.Layers, inventory.Layer{Index: l.Index, DiffID: l.DiffID, CreatedBy: l.CreatedBy})
	}
	return inv
}

// TestPolicyBaselineFixtures records the fixture Debian base and the demo
// image as approved bases and checks images built on them, on another
// base, and with a drifted middle layer, all by their real layer digests.
func TestPolicyBaselineFixtures(t *testing.T) {
	fix := fixture.Dir(t)
	demoOCI := filepath.Join(fix, "demo-oci")
	fl := fixtureLayers(t, demoOCI)
	if len(fl) != 2 {
		t.Fatalf("fixture demo-oci has %d layers, want 2 (Debian base + app)", len(fl))
	}
	debianLayer := fl[0]
	dir := t.TempDir()
	debian := filepath.Join(dir, "debian")
	writeLayout(t, debian, "debian:12", nil, debianLayer)

	bases := filepath.Join(dir, "bases.yaml")
	_, errOut, code := runPolicyBaseline(t, "oci-layout:"+debian, "--name", "debian-12", "-o", bases)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "approved base debian-12: 1 layer (top sha256:") {
		t.Errorf("stderr = %q", errOut)
	}
	// The demo image, from its docker-archive, appended as a second base.
	stdout, errOut, code := runPolicyBaseline(t, "docker-archive:"+filepath.Join(fix, "demo.tar"), "--name", "debian-curl", "-o", bases, "--append")
	if code != ExitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, errOut)
	}
	approved, err := basecheck.LoadBases(bases)
	if err != nil {
		t.Fatal(err)
	}
	if len(approved) != 2 || approved[0].Name != "debian-12" || approved[1].Name != "debian-curl" {
		t.Fatalf("bases = %+v", approved)
	}
	if approved[0].DiffIDs[0] != debianLayer.diffID || len(approved[1].DiffIDs) != 2 || approved[1].DiffIDs[0] != debianLayer.diffID ||
		approved[1].DiffIDs[1] != fl[1].diffID {
		t.Errorf("docker-archive and OCI layout of the same image disagree on layers: %+v vs %+v", approved, fl)
	}
	if approved[0].Digest == "" || approved[0].ConfigDigest == "" || approved[0].Ref != "oci-layout:"+debian || approved[0].Added.IsZero() {
		t.Errorf("debian-12 record = %+v", approved[0])
	}

	app := newLayer(t, "COPY app /app", map[string]string{"app/server": "#!/bin/sh\necho hi\n"})
	onDebian, onOther, drifted := filepath.Join(dir, "on-debian"), filepath.Join(dir, "on-other"), filepath.Join(dir, "drifted")
	writeLayout(t, onDebian, "app:1", nil, debianLayer, app)
	writeLayout(t, onOther, "app:1", nil, newLayer(t, "ADD alpine.tar /", map[string]string{"etc/os-release": "ID=alpine\n"}), app)
	writeLayout(t, drifted, "app:1", nil, debianLayer, newLayer(t, "RUN apt-get install -y wget", map[string]string{"usr/bin/wget": "ELF"}), app)

	tests := []struct {
		name string
		ref  string
		only []string // approved bases to use (nil: all)
		want basecheck.Result
	}{
		{"built on the fixture base", "oci-layout:" + onDebian, nil,
			basecheck.Result{Approved: true, Base: "debian-12", MatchedLayers: 1, BaseLayers: 1, ImageLayers: 2}},
		{"the demo image: longest base", "docker-archive:" + filepath.Join(fix, "demo.tar"), nil,
			basecheck.Result{Approved: true, Base: "debian-curl", MatchedLayers: 2, BaseLayers: 2, ImageLayers: 2}},
		{"same app layer on another base", "oci-layout:" + onOther, nil,
			basecheck.Result{Nearest: "debian-12", DifferingLayers: 1, ImageLayers: 2}},
		{"drifted middle layer", "oci-layout:" + drifted, []string{"debian-curl"},
			basecheck.Result{Nearest: "debian-curl", MatchedLayers: 1, DifferingLayers: 1, ImageLayers: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			use := approved
			if tt.only != nil {
				use = nil
				for _, b := range approved {
					for _, o := range tt.only {
						if b.Name == o {
							use = append(use, b)
						}
					}
				}
			}
			got := basecheck.Check(imageInventory(t, tt.ref), use)
			reason := got.Reason
			got.Reason = ""
			if got != tt.want {
				t.Errorf("Check = %+v\nwant    %+v\nreason: %s", got, tt.want, reason)
			}
			t.Logf("%s: %s", tt.name, reason)
		})
	}
	r := basecheck.Check(imageInventory(t, "oci-layout:"+onDebian), approved)
	if r.Origin(0) != "base" || r.Origin(1) != "app" {
		t.Errorf("origins %q %q", r.Origin(0), r.Origin(1))
	}
}

// TestPolicyBaselineDeclaredBase: the OCI base annotations an image carries
// reach the JSON report of a real scan and the check.
func TestPolicyBaselineDeclaredBase(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	labels := map[string]string{
		inventory.AnnotationBaseName:   "docker.io/library/debian:12",
		inventory.AnnotationBaseDigest: "sha256:" + strings.Repeat("a", 64),
		"com.example.token":            "not-for-the-report",
	}
	writeLayout(t, img, "app:1", labels, newLayer(t, "ADD rootfs /", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"}))
	code, out, errOut := run(t, "scan", "image", "oci-layout:"+img, "--scanners=", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "not-for-the-report") {
		t.Error("a label outside org.opencontainers.image.* reached the report")
	}
	inv, err := report.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.Labels[inventory.AnnotationBaseName] != "docker.io/library/debian:12" || inv.Artifact.Annotations[inventory.AnnotationBaseDigest] == "" {
		t.Fatalf("artifact labels %v annotations %v", inv.Artifact.Labels, inv.Artifact.Annotations)
	}
	r := basecheck.Check(inv, nil)
	if r.DeclaredBase != "docker.io/library/debian:12" || r.Base != "docker.io/library/debian:12@sha256:"+strings.Repeat("a", 64) || r.Approved {
		t.Errorf("Check = %+v", r)
	}
}

func TestPolicyBaselineErrors(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	writeLayout(t, img, "app:1", nil, newLayer(t, "ADD x /", map[string]string{"x": "y"}))
	badBases := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badBases, []byte("kind: Policy\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no ref", nil, "requires at least 1 arg"},
		{"--name with two refs", []string{"oci-layout:" + img, "oci-layout:" + img, "--name", "x"}, "--name names one base"},
		{"--append without -o", []string{"oci-layout:" + img, "--append"}, "--append merges into the file -o names"},
		{"missing image", []string{"docker-archive:" + filepath.Join(dir, "nope.tar")}, "nope.tar"},
		{"a directory", []string{"dir:" + dir}, "is not an image"},
		{"append to a broken file", []string{"oci-layout:" + img, "-o", badBases, "--append"}, "bad.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runPolicyBaseline(t, tc.args...)
			if code != ExitError || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	// Default names and stdout output; two refs merge into one file.
	other := filepath.Join(dir, "other")
	writeLayout(t, other, "", nil, newLayer(t, "ADD z /", map[string]string{"z": "1"}))
	out, errOut, code := runPolicyBaseline(t, "oci-layout:"+img, "oci-layout:"+other)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := basecheck.ReadBases(strings.NewReader(out), "stdout")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != 2 || got[0].Name != "app:1" || got[1].Name != "other" {
		t.Errorf("bases = %+v", got)
	}
}

// TestPolicyBaselineDocker records an image of the Docker Engine from its
// inspect data and checks it against the layers of its export.
func TestPolicyBaselineDocker(t *testing.T) {
	cli, err := source.DockerClient("")
	if err == nil {
		_, err = cli.Ping(context.Background())
		cli.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Docker Engine: %v", err)
		}
		t.Skipf("no Docker Engine: %v", err)
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n", "bin/app": "x"})
	tag := fmt.Sprintf("bulkhead-policy-baseline-test:%d", time.Now().UnixNano())
	imp := exec.Command("sh", "-c", "tar -C "+root+" -c . | docker import - "+tag)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	out, errOut, code := runPolicyBaseline(t, "docker:"+tag)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := basecheck.ReadBases(strings.NewReader(out), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	exported := imageInventory(t, "docker:"+tag)
	if len(got) != 1 || got[0].Name != tag || len(got[0].DiffIDs) != 1 || got[0].DiffIDs[0] != exported.Artifact.Layers[0].DiffID ||
		!strings.HasPrefix(got[0].ConfigDigest, "sha256:") {
		t.Errorf("bases %+v, export layers %+v", got, exported.Artifact.Layers)
	}
	if r := basecheck.Check(exported, got); !r.Approved || r.Base != tag {
		t.Errorf("Check = %+v", r)
	}
}

// BenchmarkPolicyBaselineDemo records the fixture demo image (137 MB
// docker-archive, 2 layers) as an approved base: only metadata is read.
func BenchmarkPolicyBaselineDemo(b *testing.B) {
	fix := fixture.Dir(b)
	out := filepath.Join(b.TempDir(), "bases.yaml")
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		g := &globals{cacheDir: b.TempDir(), stdout: &stdout, stderr: &stderr, quiet: true}
		cmd := newPolicyBaselineCmd(g)
		cmd.SetArgs([]string{"docker-archive:" + filepath.Join(fix, "demo.tar"), "-o", out})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
