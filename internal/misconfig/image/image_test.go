package image

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer/imagefacts"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/corpustest"
)

var now = time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)

func loadConfig(t *testing.T, name string) *v1.ConfigFile {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cf, err := v1.ParseConfigFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

type fakeInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// facts runs the imagefacts analyzer's classification the way the core
// would, then fills the layer fields the way squash does.
func facts(t *testing.T, cf *v1.ConfigFile, files map[string]struct {
	mode  fs.FileMode
	layer int
}) []misconfig.Finding {
	t.Helper()
	a := imagefacts.New()
	hs := histories(cf)
	var out []misconfig.Finding
	for p, f := range files {
		info := fakeInfo{name: p[strings.LastIndexByte(p, '/')+1:], size: 1024, mode: f.mode}
		if !a.Required(p, info) {
			continue
		}
		for _, fact := range imagefacts.Facts(p, info) {
			fact.LayerIndex = misconfig.Layer(f.layer)
			fact.LayerDiffID = cf.RootFS.DiffIDs[f.layer].String()
			for _, h := range hs {
				if h.layer != nil && *h.layer == f.layer {
					fact.CreatedBy = h.createdBy
				}
			}
			out = append(out, fact)
		}
	}
	return out
}

func render(fs []misconfig.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		layer := "-"
		if f.LayerIndex != nil {
			layer = fmt.Sprint(*f.LayerIndex)
		}
		fmt.Fprintf(&b, "%s %s %s layer=%s %s\n", f.ID, f.Severity, f.Path, layer, f.Message)
		if f.CreatedBy != "" {
			fmt.Fprintf(&b, "    created_by: %s\n", f.CreatedBy)
		}
	}
	return b.String()
}

func TestCheckNodeApp(t *testing.T) {
	cf := loadConfig(t, "node-app.config.json")
	type file = struct {
		mode  fs.FileMode
		layer int
	}
	files := map[string]file{
		"/usr/bin/passwd":   {fs.ModeSetuid | 0o755, 0},
		"/usr/bin/chage":    {fs.ModeSetgid | 0o755, 0},
		"/usr/bin/sudo":     {fs.ModeSetuid | 0o755, 1},
		"/usr/sbin/sshd":    {0o755, 1},
		"/usr/bin/ls":       {0o755, 0},
		"/tmp/scratch.sock": {0o777, 4},
		"/var/tmp/x":        {0o666, 4},
		"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease":                  {0o644, 1},
		"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages": {0o644, 1},
		"/var/cache/apt/archives/curl_7.88.1-10_amd64.deb":                                   {0o644, 1},
	}
	for i := range 13 {
		files[fmt.Sprintf("/app/public/uploads/%02d.png", i)] = file{0o666, 4}
	}
	got := Check(cf, facts(t, cf, files), Options{Now: now})
	corpustest.Golden(t, "testdata/node-app.golden", render(got))

	// The ENV value never appears in the output, not even in created_by.
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), "Pr0d-Passw0rd!") {
		t.Errorf("the secret value leaked into the findings: %s", b)
	}
	for _, f := range got {
		if f.Why == "" || f.Fix == "" || len(f.References) == 0 || f.Title == "" {
			t.Errorf("%s at %s: catalogue fields not filled: %+v", f.ID, f.Path, f)
		}
	}
}

func TestCheckClean(t *testing.T) {
	cf := loadConfig(t, "distroless-clean.config.json")
	if got := Check(cf, nil, Options{Now: now}); len(got) != 0 {
		t.Errorf("a clean image produced findings:\n%s", render(got))
	}
}

func TestMaxAge(t *testing.T) {
	cf := loadConfig(t, "distroless-clean.config.json") // built 2024-06-20
	has := func(fs []misconfig.Finding) bool {
		for _, f := range fs {
			if f.ID == misconfig.IMGOld {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		now    time.Time
		want   bool
	}{
		{"default, fresh", 0, now, false},
		{"default, stale", 0, now.AddDate(1, 0, 0), true},
		{"short limit", 7 * 24 * time.Hour, now, true},
		{"disabled", -1, now.AddDate(5, 0, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := has(Check(cf, nil, Options{MaxAge: tc.maxAge, Now: tc.now})); got != tc.want {
				t.Errorf("BH-IMG-010 reported = %v, want %v", got, tc.want)
			}
		})
	}
	// Reproducible builds stamp 1970: no age can be told.
	cf.Created = v1.Time{Time: time.Unix(0, 0)}
	if has(Check(cf, nil, Options{Now: now})) {
		t.Error("an epoch creation time was reported as old")
	}
}

func TestSkip(t *testing.T) {
	cf := loadConfig(t, "node-app.config.json")
	got := Check(cf, nil, Options{Now: now, Options: misconfig.Options{Skip: []string{"BH-IMG-001", "BH-IMG-01*"}}})
	for _, f := range got {
		if f.ID == "BH-IMG-001" || strings.HasPrefix(f.ID, "BH-IMG-01") {
			t.Errorf("skipped check %s reported", f.ID)
		}
	}
	if len(got) == 0 {
		t.Error("everything was skipped")
	}
}

func TestInstruction(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh -c #(nop)  USER app":          "USER app",
		"USER app":                             "USER app",
		"RUN /bin/sh -c make # buildkit":       "RUN /bin/sh -c make",
		"/bin/sh -c #(nop) ADD file:abc in / ": "ADD file:abc in /",
	} {
		if got := instruction(in); got != want {
			t.Errorf("instruction(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHistoryWithoutLayersMatch(t *testing.T) {
	// History that does not match the layers (squashed images) must not
	// attribute findings to wrong layers.
	cf := loadConfig(t, "node-app.config.json")
	cf.RootFS.DiffIDs = cf.RootFS.DiffIDs[:2]
	for _, f := range Check(cf, nil, Options{Now: now}) {
		if f.LayerIndex != nil {
			t.Errorf("%s attributed to layer %d of an inconsistent history", f.ID, *f.LayerIndex)
		}
	}
}
