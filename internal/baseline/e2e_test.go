package baseline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/baseline"
	"github.com/bulkhead-sec/bulkhead/internal/cli"
	"github.com/bulkhead-sec/bulkhead/internal/report"
)

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

func bulkhead(t *testing.T, cache string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), append([]string{"--cache-dir", cache}, args...), &out, &errb); code != cli.ExitOK {
		t.Fatalf("bulkhead %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestRealReports scans a checkout twice with bulkhead itself (every
// scanner, a vulnerability DB imported from OSV records) and checks which
// findings of the second scan the first one's report knows.
func TestRealReports(t *testing.T) {
	cache, osv := t.TempDir(), t.TempDir()
	writeTree(t, osv, map[string]string{
		"DSA-5000-1.json": `{"schema_version":"1.6.0","id":"DSA-5000-1","aliases":["CVE-2024-0001"],"modified":"2024-05-01T00:00:00Z",
			"affected":[{"package":{"ecosystem":"Debian:12","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.88.1-10+deb12u9"}]}]}]}`,
		"DSA-5001-1.json": `{"schema_version":"1.6.0","id":"DSA-5001-1","aliases":["CVE-2024-0002"],"modified":"2024-05-01T00:00:00Z",
			"affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.15-1~deb12u1"}]}]}]}`,
	})
	bulkhead(t, cache, "db", "import", osv)

	// Assembled at run time so that no credential-shaped literal sits in
	// the repository.
	keyID := "AKIA" + "Z7VQ3XKJ5M2N4P6R"
	secretKey := "q8Xw2Lr9Tz4Vb7Nc1Mp5" + "Kd3Hf6Gj0Sa2Ye8Ru4Wi"
	newKeyID := "AKIA" + "QW3RT7YU2LK4PA5S"
	newSecretKey := "Zt4Lm8Qp2Wx6Rb1Nv9Kc" + "3Jh7Gf5Ds0Ae2Yu8Io4P"
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + `EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`
	osRelease := "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"
	dpkg := func(curl, openssl string) string {
		s := "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + curl + "\n\n"
		if openssl != "" {
			s += "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + openssl + "\n\n"
		}
		return s
	}
	v1, v2 := t.TempDir(), t.TempDir()
	writeTree(t, v1, map[string]string{
		"etc/os-release":      osRelease,
		"var/lib/dpkg/status": dpkg("7.88.1-10+deb12u5", ""),
		"app/.env":            "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\n",
		"app/eicar.com":       eicar,
		"Dockerfile":          "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n",
	})
	// The change: curl bumped but still vulnerable, openssl added (a new
	// vulnerability), the secret moved to another file, a new key, the
	// EICAR file renamed, two lines added at the top of the Dockerfile.
	writeTree(t, v2, map[string]string{
		"etc/os-release":      osRelease,
		"var/lib/dpkg/status": dpkg("7.88.1-10+deb12u7", "3.0.11-1~deb12u2"),
		"app/config.env":      "# moved\nAWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\n",
		"app/new.env":         "AWS_ACCESS_KEY_ID=" + newKeyID + "\nAWS_SECRET_ACCESS_KEY=" + newSecretKey + "\n",
		"app/test-file.bin":   eicar,
		"Dockerfile":          "# syntax=docker/dockerfile:1\n# app image\nFROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n",
	})
	scanners := "--scanners=vuln,secret,misconfig,malware"
	r1 := filepath.Join(t.TempDir(), "r1.json")
	bulkhead(t, cache, "scan", "fs", v1, scanners, "--format", "json", "-o", r1)
	out2 := bulkhead(t, cache, "scan", "fs", v2, scanners, "--format", "json")

	set, err := baseline.Load(r1)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := report.ReadJSON(strings.NewReader(out2))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	mark := func(pre bool, what string) {
		if pre {
			got = append(got, "pre-existing "+what)
		} else {
			got = append(got, "new "+what)
		}
	}
	for _, v := range inv.Vulnerabilities {
		mark(set.HasVuln(v), v.ID+" "+v.Package.Name)
	}
	for _, s := range inv.Secrets {
		mark(set.Has(baseline.SecretKey(s)), s.RuleID+" "+s.Path)
	}
	for _, m := range inv.Misconfigurations {
		mark(set.Has(baseline.MisconfigKey(m)), m.ID)
	}
	for _, m := range inv.Malware {
		mark(set.Has(baseline.MalwareKey(m)), m.Signature+" "+m.Path)
	}
	gotText := strings.Join(got, "\n")
	for _, want := range []string{
		"pre-existing CVE-2024-0001 curl",
		"new CVE-2024-0002 openssl",
		"pre-existing aws-access-key-id /app/config.env",
		"pre-existing aws-secret-access-key /app/config.env",
		"new aws-access-key-id /app/new.env",
		"new aws-secret-access-key /app/new.env",
		"pre-existing EICAR-Test-File /app/test-file.bin",
		"pre-existing BH-DF-002",
	} {
		if !strings.Contains(gotText, want) {
			t.Errorf("missing %q in:\n%s", want, gotText)
		}
	}
	if strings.Count(gotText, "new ") != 3 {
		t.Errorf("want exactly 3 new findings:\n%s", gotText)
	}
}
