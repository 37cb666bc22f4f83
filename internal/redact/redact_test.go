package redact

import (
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	for in, want := range map[string]string{
		"app --password=hunter2":               "app --password=****",
		"app --password hunter2 --verbose":     "app --password **** --verbose",
		"app --api-key abc --port 80":          "app --api-key **** --port 80",
		"app --opt=token=abc":                  "app --opt=****",
		"app --db=postgres://u:hunter4pw@db/x": "app --db=postgres://u:****@db/x",
		"app http://admin:S3cret@proxy:3128":   "app http://admin:****@proxy:3128",
		"app https://mirror.example/v2":        "app https://mirror.example/v2",
		"app --name=web --port=8080":           "app --name=web --port=8080",
		"app --password":                       "app --password",
		"app --password --other":               "app --password --other",
	} {
		if got := strings.Join(Args(strings.Fields(in)), " "); got != want {
			t.Errorf("Args(%q) = %q, want %q", in, got, want)
		}
	}
	// One argument holding a whole command line (sh -c '...').
	got := Args([]string{"sh", "-c", "sleep 200; run --password hunter2pw --token=t0k"})
	if strings.Contains(strings.Join(got, " "), "hunter2pw") || strings.Contains(strings.Join(got, " "), "t0k") {
		t.Errorf("secret inside a script argument kept: %q", got)
	}
	in := []string{"--password", "x"}
	Args(in)
	if in[1] != "x" {
		t.Error("Args changed its input")
	}
}

func FuzzArgs(f *testing.F) {
	f.Add("app --password=hunter2 http://u:p@h/ sh -c 'x --token y'")
	f.Fuzz(func(t *testing.T, s string) {
		out := Args(strings.Fields(s))
		if len(out) != len(strings.Fields(s)) {
			t.Fatalf("%d args in, %d out", len(strings.Fields(s)), len(out))
		}
		for _, a := range out {
			if strings.Contains(a, "://") && userinfo.MatchString(a) && !strings.Contains(a, ":"+Mask+"@") {
				t.Fatalf("URL password kept in %q", a)
			}
		}
	})
}
