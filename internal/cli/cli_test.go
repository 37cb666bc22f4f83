package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/imagebuild"
)

const statusFile = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u7
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

`

// writeTree creates files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// smallImage builds a two-layer docker-archive: a base with os-release and
// a dpkg status, and a layer that adds a package.
func smallImage(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	base, app := filepath.Join(dir, "base"), filepath.Join(dir, "app")
	writeTree(t, base, map[string]string{
		"usr/lib/os-release":             "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
		"var/lib/dpkg/status":            statusFile,
		"usr/share/doc/zlib1g/copyright": "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Zlib\n",
	})
	os.MkdirAll(filepath.Join(base, "etc"), 0o755)
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(base, "etc", "os-release")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, app, map[string]string{
		"usr/lib/os-release":             "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
		"var/lib/dpkg/status":            statusFile + "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n\n",
		"usr/share/doc/zlib1g/copyright": "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Zlib\n",
	})
	// Keep the unchanged files byte-identical and equally old so the diff
	// layer holds only what changed.
	old := time.Unix(1700000000, 0)
	for _, root := range []string{base, app} {
		for _, p := range []string{"usr/lib/os-release", "usr/share/doc/zlib1g/copyright"} {
			os.Chtimes(filepath.Join(root, p), old, old)
		}
	}
	var layers []imagebuild.Layer
	for i, st := range []struct{ dir, by string }{{base, "ADD rootfs.tar /"}, {app, "RUN apt-get install -y curl"}} {
		tarPath := filepath.Join(dir, "layer"+string(rune('0'+i))+".tar")
		var err error
		if i == 0 {
			err = imagebuild.WriteDirTar(st.dir, tarPath)
		} else {
			err = imagebuild.WriteDiffTar(base, st.dir, tarPath)
		}
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, imagebuild.Layer{Tar: tarPath, CreatedBy: st.by})
	}
	img, err := imagebuild.Image(layers, v1.Config{Cmd: []string{"/bin/sh"}}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img.tar")
	if err := imagebuild.WriteDockerArchive(out, "example.com/small:1", img); err != nil {
		t.Fatal(err)
	}
	return out, app
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"--cache-dir", t.TempDir()}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestScanImageJSON(t *testing.T) {
	img, _ := smallImage(t)
	code, out, errOut := run(t, "scan", "image", "docker-archive:"+img, "--format", "json", "--scanners=")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var doc struct {
		OS       struct{ ID, VersionID string }
		Packages []struct {
			Name, Version, PURL string
			Licenses            []string
			Locations           []struct {
				Path       string
				LayerIndex int
				CreatedBy  string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if doc.OS.ID != "debian" || doc.OS.VersionID != "12" {
		t.Errorf("OS = %+v", doc.OS)
	}
	got := map[string]string{}
	for _, p := range doc.Packages {
		got[p.Name] = p.Version + " layer " + string(rune('0'+p.Locations[0].LayerIndex)) + " " + p.Locations[0].CreatedBy + " " + strings.Join(p.Licenses, ",")
	}
	want := map[string]string{
		"libc6":  "2.36-9+deb12u7 layer 0 ADD rootfs.tar / ",
		"zlib1g": "1:1.2.13.dfsg-1 layer 0 ADD rootfs.tar / Zlib",
		"curl":   "7.88.1-10+deb12u5 layer 1 RUN apt-get install -y curl ",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("packages = %v", got)
	}
}

func TestSBOMFormatsAndOutput(t *testing.T) {
	img, _ := smallImage(t)
	for _, tc := range []struct{ format, want string }{
		{"cyclonedx-json", `"specVersion": "1.6"`},
		{"spdx-json", `"spdxVersion": "SPDX-2.3"`},
		{"table", "curl"},
	} {
		out := filepath.Join(t.TempDir(), "sbom")
		code, stdout, errOut := run(t, "sbom", img, "--format", tc.format, "--output", out)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tc.format, code, errOut)
		}
		if stdout != "" {
			t.Errorf("%s: data on stdout with --output: %q", tc.format, stdout)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) || !strings.Contains(string(b), "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12") && tc.format != "table" {
			t.Errorf("%s output lacks %q or curl's purl:\n%.400s", tc.format, tc.want, b)
		}
	}
}

func TestScanFS(t *testing.T) {
	_, app := smallImage(t)
	code, out, errOut := run(t, "scan", "fs", app, "--format", "json", "--scanners=")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"name": "curl"`) || !strings.Contains(out, `"type": "filesystem"`) {
		t.Errorf("fs scan output:\n%.600s", out)
	}
}

func TestErrors(t *testing.T) {
	img, _ := smallImage(t)
	notTar := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(notTar, []byte("not a tar"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"scan", "image", "docker-archive:/nonexistent/x.tar", "--scanners="}, "no such file"},
		{"no vulnerability DB", []string{"scan", "image", img}, "bulkhead db update"},
		{"unknown scanner", []string{"scan", "image", img, "--scanners", "vuln,magic"}, "unknown scanner"},
		{"bad format", []string{"sbom", img, "--format", "xml"}, "valid: "},
		{"not an archive", []string{"scan", "image", notTar, "--scanners="}, "x.tar"},
		{"bad registry ref", []string{"scan", "image", "UPPER/Case::bad", "--scanners="}, "parse image reference"},
		{"no args", []string{"scan", "image"}, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, errOut := run(t, tc.args...)
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q lacks %q", errOut, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "bulkhead ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// imageOf builds a one-layer docker-archive of files.
func imageOf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	writeTree(t, root, files)
	tarPath := filepath.Join(dir, "layer.tar")
	if err := imagebuild.WriteDirTar(root, tarPath); err != nil {
		t.Fatal(err)
	}
	img, err := imagebuild.Image([]imagebuild.Layer{{Tar: tarPath, CreatedBy: "ADD rootfs /"}}, v1.Config{}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img.tar")
	if err := imagebuild.WriteDockerArchive(out, "example.com/x:1", img); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrokenDatabaseIsAWarning: a corrupt package database fails that
// analyzer for that file, not the scan, and the report says so.
func TestBrokenDatabaseIsAWarning(t *testing.T) {
	img := imageOf(t, map[string]string{
		"etc/os-release":       "ID=debian\nVERSION_ID=12\n",
		"var/lib/dpkg/status":  statusFile,
		"var/lib/rpm/Packages": strings.Repeat("\x00\x05\x31\x62 not a berkeley db ", 200),
		"lib/apk/db/installed": "P:musl\nV:1.2.5-r0\n\nthis line is not a field\n",
	})
	code, out, errOut := run(t, "scan", "image", img, "--format", "json", "--scanners=")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Packages []struct{ Name string }
		Warnings []struct{ Analyzer, Path, Message string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range doc.Packages {
		names[p.Name] = true
	}
	if !names["libc6"] || !names["zlib1g"] {
		t.Errorf("dpkg packages missing: %v", names)
	}
	warned := map[string]bool{}
	for _, w := range doc.Warnings {
		warned[w.Analyzer+" "+w.Path] = true
	}
	for _, want := range []string{"pkg/rpm /var/lib/rpm/Packages", "pkg/apk /lib/apk/db/installed"} {
		if !warned[want] {
			t.Errorf("no warning %q in %+v", want, doc.Warnings)
		}
	}
	if !strings.Contains(errOut, "/var/lib/rpm/Packages") {
		t.Errorf("stderr does not name the broken file: %q", errOut)
	}
}

// TestSecretDeletedInLaterLayer plants credentials in a lower layer and
// deletes them in an upper one, and in the image history: all are found,
// with the layers, and no report format shows them unmasked.
func TestSecretDeletedInLaterLayer(t *testing.T) {
	// Assembled at run time so that no credential-shaped literal sits in
	// the repository.
	keyID := "AKIA" + "Z7VQ3XKJ5M2N4P6R"
	secretKey := "q8Xw2Lr9Tz4Vb7Nc1Mp5" + "Kd3Hf6Gj0Sa2Ye8Ru4Wi"
	dir := t.TempDir()
	l0, l1 := filepath.Join(dir, "l0"), filepath.Join(dir, "l1")
	writeTree(t, l0, map[string]string{
		"app/.env":   "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\n",
		"app/readme": "hello\n",
	})
	writeTree(t, l1, map[string]string{"app/readme": "hello\n"})
	// A jar with credentials inside it, in the layer that stays.
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	w, _ := zw.Create("BOOT-INF/classes/application.properties")
	io.WriteString(w, "aws.accessKeyId="+keyID+"\naws.secretKey="+secretKey+"\n")
	zw.Close()
	writeTree(t, l1, map[string]string{"app/app.jar": jar.String()})
	old := time.Unix(1700000000, 0)
	os.Chtimes(filepath.Join(l0, "app/readme"), old, old)
	os.Chtimes(filepath.Join(l1, "app/readme"), old, old)
	t0, t1 := filepath.Join(dir, "0.tar"), filepath.Join(dir, "1.tar")
	if err := imagebuild.WriteDirTar(l0, t0); err != nil {
		t.Fatal(err)
	}
	if err := imagebuild.WriteDiffTar(l0, l1, t1); err != nil {
		t.Fatal(err)
	}
	img, err := imagebuild.Image([]imagebuild.Layer{
		{Tar: t0, CreatedBy: "COPY .env /app/"},
		{Tar: t1, CreatedBy: "RUN curl -u deploy:" + secretKey + " https://example.invalid/x && rm /app/.env"},
	}, v1.Config{Env: []string{"AWS_SECRET_ACCESS_KEY=" + secretKey}}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "img.tar")
	if err := imagebuild.WriteDockerArchive(tarPath, "example.com/sec:1", img); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "scan", "image", tarPath, "--scanners", "secret", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Secrets []struct {
			RuleID, Path, Match string
			LayerIndex          int
			DeletedInLayer      *int
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var files, history, env, inJar int
	for _, s := range doc.Secrets {
		switch {
		case strings.HasPrefix(s.Path, "config.Env:"):
			env++
		case strings.HasPrefix(s.Path, "/app/app.jar!/"):
			inJar++
			if s.LayerIndex != 1 || s.DeletedInLayer != nil {
				t.Errorf("jar secret %s: layer %d deleted %v", s.RuleID, s.LayerIndex, s.DeletedInLayer)
			}
		case s.Path == "/app/.env":
			files++
			if s.LayerIndex != 0 || s.DeletedInLayer == nil || *s.DeletedInLayer != 1 {
				t.Errorf("%s: layer %d deleted %v, want layer 0 deleted in 1", s.RuleID, s.LayerIndex, s.DeletedInLayer)
			}
		case strings.HasPrefix(s.Path, "history["):
			history++
		}
	}
	if files < 2 || history < 1 || env < 1 || inJar < 1 {
		t.Errorf("found %d file, %d history, %d env and %d in-jar secrets: %+v", files, history, env, inJar, doc.Secrets)
	}
	for _, format := range []string{"json", "table", "sarif", "junit", "cyclonedx-json", "spdx-json"} {
		_, out, errOut := run(t, "scan", "image", tarPath, "--scanners", "secret", "--format", format)
		for _, leak := range []string{keyID, secretKey} {
			if strings.Contains(out, leak) || strings.Contains(errOut, leak) {
				t.Errorf("%s output shows a secret unmasked", format)
			}
		}
	}
}

// TestMalwareEICAR: the EICAR test file added in one layer and deleted in
// the next is found with both layers.
func TestMalwareEICAR(t *testing.T) {
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + `EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`
	dir := t.TempDir()
	l0, l1 := filepath.Join(dir, "l0"), filepath.Join(dir, "l1")
	writeTree(t, l0, map[string]string{"tmp/eicar.com": eicar, "etc/hostname": "x\n"})
	writeTree(t, l1, map[string]string{"etc/hostname": "x\n"})
	old := time.Unix(1700000000, 0)
	os.Chtimes(filepath.Join(l0, "etc/hostname"), old, old)
	os.Chtimes(filepath.Join(l1, "etc/hostname"), old, old)
	t0, t1 := filepath.Join(dir, "0.tar"), filepath.Join(dir, "1.tar")
	if err := imagebuild.WriteDirTar(l0, t0); err != nil {
		t.Fatal(err)
	}
	if err := imagebuild.WriteDiffTar(l0, l1, t1); err != nil {
		t.Fatal(err)
	}
	img, err := imagebuild.Image([]imagebuild.Layer{{Tar: t0, CreatedBy: "ADD eicar.com /tmp/"}, {Tar: t1, CreatedBy: "RUN rm /tmp/eicar.com"}}, v1.Config{}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "img.tar")
	if err := imagebuild.WriteDockerArchive(tarPath, "example.com/eicar:1", img); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "scan", "image", tarPath, "--scanners", "malware", "--format", "json", "--exit-code", "1")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want 1 (a finding with --exit-code 1): %s", code, errOut)
	}
	var doc struct {
		Malware []struct {
			Signature, Path, SHA256 string
			LayerIndex              int
			DeletedInLayer          *int
			CreatedBy               string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Malware) != 1 {
		t.Fatalf("malware = %+v", doc.Malware)
	}
	m := doc.Malware[0]
	if m.Path != "/tmp/eicar.com" || m.LayerIndex != 0 || m.DeletedInLayer == nil || *m.DeletedInLayer != 1 || m.CreatedBy != "ADD eicar.com /tmp/" || m.SHA256 == "" {
		t.Errorf("finding = %+v", m)
	}
	for format, want := range map[string]string{"sarif": `"ruleId": "malware"`, "table": "EICAR"} {
		_, out, errOut := run(t, "scan", "image", tarPath, "--scanners", "malware", "--format", format)
		if !strings.Contains(out, want) || !strings.Contains(out, "eicar.com") {
			t.Errorf("%s output lacks the finding (%s):\n%.800s", format, errOut, out)
		}
	}
}
