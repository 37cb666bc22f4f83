package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	engine "github.com/bulkhead-sec/bulkhead/internal/secret"
)

type fakeInfo struct {
	size int64
	mode os.FileMode
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// ghToken makes a GitHub-format token with a valid checksum.
func ghToken(body string) string { return "ghp_" + body + engine.Base62CRC32(body) }

const tokenBody = "Qm7ZkP2vXr9LwT4nB8sYd3FhJc6GaE" // 30 characters, not a real token

func TestRequired(t *testing.T) {
	a := Default()
	for path, want := range map[string]bool{
		"/app/.env":                             true,
		"/root/.docker/config.json":             true,
		"/app/static/main.min.js":               true,
		"/app/conf/server.jks":                  true,
		"/usr/share/locale/de/LC_MESSAGES/x.mo": false,
		"/usr/share/zoneinfo/Europe/Berlin":     false,
		"/usr/lib/x86_64-linux-gnu/libc.so.6":   false,
		"/usr/share/fonts/truetype/x.ttf":       false,
		"/app/logo.PNG":                         false,
		"/proc/self/environ":                    false,
		"/var/lib/dpkg/info/bash.list":          false,
		"/var/lib/dpkg/info/bash.postinst":      true,
	} {
		if got := a.Required(path, fakeInfo{size: 100}); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	if a.Required("/app/.env", fakeInfo{size: 0}) {
		t.Error("empty file required")
	}
	if a.Required("/app/big.log", fakeInfo{size: engine.DefaultMaxFileSize + 1}) {
		t.Error("file over the cap required")
	}
	if a.Required("/app/link", fakeInfo{size: 10, mode: os.ModeSymlink}) {
		t.Error("symlink required")
	}
}

func TestAnalyze(t *testing.T) {
	a := Default()
	tok := ghToken(tokenBody)
	content := []byte("#!/bin/sh\nexport GH_TOKEN=" + tok + "\n")
	res, err := a.Analyze(context.Background(), analyzer.Input{Path: "/app/release.sh", Info: fakeInfo{size: int64(len(content))}, Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || len(res.Secrets) != 1 {
		t.Fatalf("result %+v", res)
	}
	s := res.Secrets[0]
	if s.RuleID != "github-pat" || s.Path != "/app/release.sh" || s.Line != 2 || s.Match != "ghp_********" || s.Severity != "CRITICAL" {
		t.Errorf("%+v", s)
	}
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), tok) || strings.Contains(string(b), tokenBody) {
		t.Fatalf("secret in result: %s", b)
	}
	// Nothing found: no result, no error.
	res, err = a.Analyze(context.Background(), analyzer.Input{Path: "/etc/hostname", Content: strings.NewReader("web-1\n")})
	if res != nil || err != nil {
		t.Errorf("clean file: %+v, %v", res, err)
	}
}

// TestAnalyzeLimitIsAWarning: a limit returns the findings so far and an
// error naming the file (the core turns it into a warning), never the
// secret.
func TestAnalyzeLimitIsAWarning(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Secret.MaxFindings = 1
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := ghToken(tokenBody), ghToken(strings.ToLower(tokenBody))
	res, err := a.Analyze(context.Background(), analyzer.Input{Path: "/app/x", Content: strings.NewReader(t1 + "\n" + t2 + "\n")})
	if !errors.Is(err, engine.ErrTooMany) || !strings.Contains(err.Error(), "/app/x") || res == nil || len(res.Secrets) != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if strings.Contains(err.Error(), t1) || strings.Contains(err.Error(), t2) {
		t.Fatal("secret in error")
	}
}

func TestVersion(t *testing.T) {
	if Default().Version() != version {
		t.Errorf("default version %d", Default().Version())
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte("disable: [jwt]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, warns, err := ConfigFromFile(p)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == version {
		t.Error("a custom rule set must not share the default's cache version")
	}
	b, _ := New(cfg)
	if a.Version() != b.Version() {
		t.Error("version not stable for the same config")
	}
}

func TestScanImageConfig(t *testing.T) {
	a := Default()
	tok := ghToken(tokenBody)
	pw := "Xq7!mP2#vL9zR4@k"
	cf := &v1.ConfigFile{
		Config: v1.Config{
			Env:        []string{"PATH=/usr/local/bin:/usr/bin", "DB_PASSWORD=" + pw, "NODE_VERSION=20.11.1"},
			Labels:     map[string]string{"org.opencontainers.image.source": "https://github.com/acme/app", "ci.token": tok},
			Entrypoint: []string{"/app/server"},
			Cmd:        []string{"--listen", ":8080"},
		},
		History: []v1.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
			{CreatedBy: "/bin/sh -c #(nop)  ENV DB_PASSWORD=" + pw, EmptyLayer: true},
			{CreatedBy: "RUN /bin/sh -c curl -fsSL -u deploy:" + pw + " https://repo.internal/app.tgz | tar xz # buildkit"},
			{CreatedBy: "CMD [\"/app/server\"]", EmptyLayer: true},
		},
	}
	got := a.ScanImageConfig(context.Background(), cf)
	type row struct {
		Path, Rule string
		Layer      int
		CreatedBy  string
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Path, s.RuleID, s.LayerIndex, s.CreatedBy})
	}
	masked := engine.Mask(pw)
	want := []row{
		{"config.Env:DB_PASSWORD", "generic-env-secret", inventory.NoLayer, ""},
		{"config.Labels:ci.token", "github-pat", inventory.NoLayer, ""},
		{"history[1]", "generic-env-secret", inventory.NoLayer, "/bin/sh -c #(nop)  ENV DB_PASSWORD=" + masked},
		{"history[2]", "curl-basic-auth", 1, "RUN /bin/sh -c curl -fsSL -u deploy:" + masked + " https://repo.internal/app.tgz | tar xz # buildkit"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %+v\nwant %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("finding %d: got %+v, want %+v", i, rows[i], want[i])
		}
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), pw) || strings.Contains(string(b), tok) {
		t.Fatalf("secret in output: %s", b)
	}
	if a.ScanImageConfig(context.Background(), nil) != nil {
		t.Error("nil config")
	}
}

func TestRedactHistory(t *testing.T) {
	a := Default()
	tok := ghToken(tokenBody)
	got := a.RedactHistory(context.Background(), 3, "RUN GH_TOKEN="+tok+" make release")
	if got != "RUN GH_TOKEN=ghp_******** make release" {
		t.Errorf("%q", got)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("/app/.env", []byte("DB_PASSWORD=Xq7!mP2#vL9zR4@k\n"))
	f.Add("/root/.docker/config.json", []byte(`{"auths":{"r":{"auth":"dXNlcjpwYXNzd29yZDEyMw=="}}}`))
	f.Add("/app/x.jks", []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1})
	a := Default()
	f.Fuzz(func(t *testing.T, path string, b []byte) {
		if !a.Required(path, fakeInfo{size: int64(len(b))}) {
			return
		}
		res, _ := a.Analyze(context.Background(), analyzer.Input{Path: path, Content: bytes.NewReader(b)})
		if res == nil {
			return
		}
		for _, s := range res.Secrets {
			if s.Path != path && !strings.HasPrefix(s.Path, path+"!/") || len(s.Fingerprint) != 16 {
				t.Fatalf("%+v", s)
			}
		}
	})
}
