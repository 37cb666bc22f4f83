package misconfig

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var idRE = regexp.MustCompile(`^BH-(DF|K8S|CMP|IMG)-\d{3}$`)

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	prefix := map[string]string{TypeDockerfile: "BH-DF-", TypeKubernetes: "BH-K8S-", TypeCompose: "BH-CMP-", TypeImage: "BH-IMG-"}
	next := map[string]int{}
	for _, c := range Catalogue() {
		if !idRE.MatchString(c.ID) {
			t.Errorf("%s: malformed ID", c.ID)
		}
		if seen[c.ID] {
			t.Errorf("%s: duplicate ID", c.ID)
		}
		seen[c.ID] = true
		if !strings.HasPrefix(c.ID, prefix[c.Type]) {
			t.Errorf("%s: type %q does not match the ID", c.ID, c.Type)
		}
		// IDs are numbered without gaps within a family, in table order.
		next[c.Type]++
		if n, _ := strconv.Atoi(c.ID[len(prefix[c.Type]):]); n != next[c.Type] {
			t.Errorf("%s: expected number %03d", c.ID, next[c.Type])
		}
		switch c.Severity {
		case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		default:
			t.Errorf("%s: severity %q", c.ID, c.Severity)
		}
		if c.Title == "" || c.Fix == "" || len(c.References) == 0 {
			t.Errorf("%s: title, fix and references are required", c.ID)
		}
		// WHY is one paragraph for a developer: a few sentences, no line breaks.
		if n := len(c.Why); n < 120 || n > 700 || strings.Contains(c.Why, "\n") {
			t.Errorf("%s: WHY is %d bytes or spans lines; want one paragraph of 120-700 bytes", c.ID, n)
		}
		for _, r := range c.References {
			if !strings.HasPrefix(r, "https://") && !strings.HasPrefix(r, "CIS Docker Benchmark") && !strings.HasPrefix(r, "Pod Security Standards") {
				t.Errorf("%s: reference %q is neither a URL nor a benchmark control", c.ID, r)
			}
		}
	}
	if got := counts(); got[TypeDockerfile] < 21 || got[TypeKubernetes] < 29 || got[TypeCompose] < 13 || got[TypeImage] < 12 {
		t.Errorf("checks per type = %v", got)
	}
}

// TestEveryIDIsCatalogued parses the ID constants of checks_*.go: every one
// must be in the catalogue, or New panics at run time.
func TestEveryIDIsCatalogued(t *testing.T) {
	files, _ := filepath.Glob("checks_*.go")
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(x ast.Node) bool {
			bl, ok := x.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(bl.Value)
			if idRE.MatchString(s) {
				n++
				if _, ok := Lookup(s); !ok {
					t.Errorf("%s: %s is declared but not in the catalogue", f, s)
				}
			}
			return true
		})
	}
	if n != len(Catalogue()) {
		t.Errorf("%d ID constants, %d catalogue entries", n, len(Catalogue()))
	}
}

func TestNewFillsMetadata(t *testing.T) {
	f := New(DFRootUser).At("Dockerfile", 3)
	c, _ := Lookup(DFRootUser)
	if f.Why != c.Why || f.Title != c.Title || f.Severity != c.Severity || f.Path != "Dockerfile" || f.Line != 3 || f.Type != TypeDockerfile {
		t.Errorf("New = %+v", f)
	}
	f.References[0] = "changed"
	if c2, _ := Lookup(DFRootUser); c2.References[0] == "changed" {
		t.Error("New shares the catalogue's References slice")
	}
	defer func() {
		if recover() == nil {
			t.Error("New of an unknown ID did not panic")
		}
	}()
	New("BH-XX-999")
}

func TestWriteCatalogue(t *testing.T) {
	var table bytes.Buffer
	if err := WriteCatalogue(&table, "table", Catalogue()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != len(Catalogue())+1 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "BH-DF-001") {
		t.Errorf("table:\n%s", table.String())
	}
	var js bytes.Buffer
	if err := WriteCatalogue(&js, "json", Catalogue()); err != nil {
		t.Fatal(err)
	}
	var back []Check
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Catalogue(), back); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}
	if err := WriteCatalogue(&js, "xml", nil); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestFindingJSON(t *testing.T) {
	f := New(K8SPrivileged).At("deploy.yaml", 12)
	f.Resource = "Deployment/web container/app"
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"id", "severity", "title", "why", "fix", "path", "line", "resource", "references"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	for _, k := range []string{"layerIndex", "layerDiffID", "createdBy", "template"} {
		if _, ok := m[k]; ok {
			t.Errorf("JSON of a file finding has %q: %s", k, b)
		}
	}
	f.LayerIndex = Layer(0)
	b, _ = json.Marshal(f)
	if !strings.Contains(string(b), `"layerIndex":0`) {
		t.Errorf("layer 0 is omitted: %s", b)
	}
}

func TestSkipped(t *testing.T) {
	o := Options{Skip: []string{"BH-DF-003", "BH-K8S-*"}}
	for id, want := range map[string]bool{"BH-DF-003": true, "BH-DF-030": false, "BH-K8S-001": true, "BH-CMP-001": false} {
		if got := o.Skipped(id); got != want {
			t.Errorf("Skipped(%s) = %v", id, got)
		}
	}
	if err := ValidateSkip([]string{"BH-DF-001", "BH-IMG-*"}); err != nil {
		t.Error(err)
	}
	if err := ValidateSkip([]string{"BH-DF-001", "BH-DF-999", "DS-0001"}); err == nil || !strings.Contains(err.Error(), "BH-DF-999, DS-0001") {
		t.Errorf("ValidateSkip = %v", err)
	}
}

func TestParseIgnore(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ids    []string
		reason string
		ok     bool
	}{
		{" bulkhead:ignore BH-DF-003 pinned by renovate", []string{"BH-DF-003"}, "pinned by renovate", true},
		{"bulkhead:ignore BH-DF-003,BH-DF-002 two at once", []string{"BH-DF-003", "BH-DF-002"}, "two at once", true},
		{"bulkhead:ignore BH-DF-003 BH-DF-002", []string{"BH-DF-003", "BH-DF-002"}, "", true},
		{"bulkhead:ignore: BH-K8S-*", []string{"BH-K8S-*"}, "", true},
		{"bulkhead:ignore", nil, "", false},
		{"bulkhead:ignore because", nil, "", false},
		{"bulkhead:ignore-me BH-DF-001", nil, "", false},
		{"TODO: fix privileged", nil, "", false},
	} {
		ids, reason, ok := ParseIgnore(tc.in)
		if !slices.Equal(ids, tc.ids) || reason != tc.reason || ok != tc.ok {
			t.Errorf("ParseIgnore(%q) = %v %q %v", tc.in, ids, reason, ok)
		}
	}
}

func TestCommentText(t *testing.T) {
	for in, want := range map[string]string{
		"privileged: true # bulkhead:ignore X": " bulkhead:ignore X",
		"# top":                                " top",
		`command: ["sh", "-c", "echo # not"]`:  "",
		"url: http://x/#anchor":                "",
		"msg: it's # yes":                      " yes",
		`v: 'a # b' # c`:                       " c",
	} {
		got, _ := CommentText(in)
		if got != want {
			t.Errorf("CommentText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFilterSuppressions(t *testing.T) {
	fs := []Finding{
		New(K8SPrivileged).At("a.yaml", 10),
		New(K8SHostPID).At("a.yaml", 5),
		New(K8SPrivileged).At("a.yaml", 30),
	}
	sups := []Suppression{{IDs: []string{K8SPrivileged}, From: 8, To: 12}}
	got := Filter(fs, sups, Options{})
	if len(got) != 2 || got[0].Line != 5 || got[1].Line != 30 {
		t.Errorf("Filter = %+v", got)
	}
}

func TestSecretName(t *testing.T) {
	secret := []string{"DB_PASSWORD", "POSTGRES_PASSWORD", "GITHUB_TOKEN", "apiKey", "AWS_SECRET_ACCESS_KEY", "JWT_SECRET",
		"SECRET_KEY_BASE", "STRIPE_API_KEY", "NPM_AUTH", "REDIS_PASS", "MYSQL_ROOT_PWD", "clientSecret", "PRIVATE_KEY", "ENCRYPTION_KEY"}
	notSecret := []string{"PWD", "OLDPWD", "GPG_KEY", "PUBLIC_KEY", "DB_PASSWORD_FILE", "TOKEN_TTL", "AWS_ACCESS_KEY_ID",
		"KEYCLOAK_URL", "PASSENGER_APP_ENV", "TOKENIZERS_PARALLELISM", "NODE_VERSION", "PATH", "SECRET_NAME", "PASSWORD_MIN_LENGTH",
		"API_KEY_HEADER", "SSH_AUTH_SOCK", "OAUTH_ENABLED", "KEY_VAULT_NAME"}
	for _, n := range secret {
		if !SecretName(n) {
			t.Errorf("SecretName(%s) = false", n)
		}
	}
	for _, n := range notSecret {
		if SecretName(n) {
			t.Errorf("SecretName(%s) = true", n)
		}
	}
	for v, want := range map[string]bool{"hunter2": true, "": false, `""`: false, "yes": false, "0": false, "/run/secrets/db": false, "${X}": true} {
		if got := SecretValue(v); got != want {
			t.Errorf("SecretValue(%q) = %v", v, got)
		}
	}
}

func TestParseImageRef(t *testing.T) {
	for in, want := range map[string]ImageRef{
		"nginx":                      {Name: "nginx"},
		"nginx:latest":               {Name: "nginx", Tag: "latest"},
		"registry:5000/app":          {Name: "registry:5000/app"},
		"registry:5000/app:1.2":      {Name: "registry:5000/app", Tag: "1.2"},
		"ghcr.io/a/b:1.2@sha256:abc": {Name: "ghcr.io/a/b", Tag: "1.2", Digest: "sha256:abc"},
		"ghcr.io/a/b@sha256:abc":     {Name: "ghcr.io/a/b", Digest: "sha256:abc"},
		"[::1]:5000/app:v1":          {Name: "[::1]:5000/app", Tag: "v1"},
	} {
		if got := ParseImageRef(in); got != want {
			t.Errorf("ParseImageRef(%q) = %+v, want %+v", in, got, want)
		}
	}
	if !ParseImageRef("app").Unpinned() || ParseImageRef("app@sha256:x").Unpinned() || ParseImageRef("app:1").Unpinned() {
		t.Error("Unpinned")
	}
}

func TestHostPaths(t *testing.T) {
	for p, want := range map[string]bool{"/var/run/docker.sock": true, "/run/containerd/containerd.sock": true, "/var/run": true,
		"/run/user/1000/docker.sock": true, "/var/log": false, "/data": false} {
		if got := RuntimeSocket(p); got != want {
			t.Errorf("RuntimeSocket(%s) = %v", p, got)
		}
	}
	for p, want := range map[string]bool{"/": true, "/etc": true, "/etc/ssl": true, "/proc": true, "/srv/app": false, "/data": false, "/etcd": false} {
		if got := SensitiveHostPath(p); got != want {
			t.Errorf("SensitiveHostPath(%s) = %v", p, got)
		}
	}
}
