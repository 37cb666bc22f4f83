package compose

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func TestInterpolate(t *testing.T) {
	for in, want := range map[string]string{
		"${BIND:-127.0.0.1}:80:80": "127.0.0.1:80:80",
		"${BIND-0.0.0.0}:80:80":    "0.0.0.0:80:80",
		"${PORT}:80":               ":80",
		"${PW:?set PW-please}":     "",
		"${X:+alt}":                "",
		"$$HOME and $USER":         "$HOME and ",
		"plain":                    "plain",
		"${unterminated":           "${unterminated",
	} {
		if got := interpolate(in); got != want {
			t.Errorf("interpolate(%q) = %q, want %q", in, got, want)
		}
	}
}

func findings(t *testing.T, svc string) []string {
	t.Helper()
	y := "services:\n  s:\n    image: x:1\n    user: \"1:1\"\n" + svc
	fs, err := Scan(t.Context(), "compose.yaml", []byte(y), misconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"@"+strconv.Itoa(f.Line))
	}
	return out
}

func TestPorts(t *testing.T) {
	for ports, want := range map[string][]string{
		`["80"]`:                            {"BH-CMP-009@5"},
		`[80]`:                              {"BH-CMP-009@5"},
		`["8080:80/udp"]`:                   {"BH-CMP-009@5"},
		`["0.0.0.0:8080:80"]`:               {"BH-CMP-009@5"},
		`["127.0.0.1:8080:80"]`:             nil,
		`["[::1]:8080:80"]`:                 nil,
		`["[::]:8080:80"]`:                  {"BH-CMP-009@5"},
		`["127.0.0.1:8000-8010:8000-8010"]`: nil,
		`[{target: 80, host_ip: 10.0.0.5}]`: nil,
		`[{target: 80, published: 8080}]`:   {"BH-CMP-009@5"},
	} {
		got := findings(t, "    ports: "+ports+"\n")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ports %s (-want +got):\n%s", ports, diff)
		}
	}
}

func TestVolumes(t *testing.T) {
	for vol, want := range map[string][]string{
		`"/var/run/docker.sock:/var/run/docker.sock"`:     {"BH-CMP-007@6"},
		`"//var/run/docker.sock:/var/run/docker.sock"`:    {"BH-CMP-007@6"},
		`'\\.\pipe\docker_engine:\\.\pipe\docker_engine'`: {"BH-CMP-007@6"},
		`"C:\\data:/data"`:     nil,
		`"/:/host:ro"`:         {"BH-CMP-008@6"},
		`"./src:/app"`:         nil,
		`"data:/var/lib/data"`: nil,
		`{type: volume, source: etc, target: /etc}`:       nil,
		`{type: bind, source: /proc, target: /host/proc}`: {"BH-CMP-008@6"},
	} {
		got := findings(t, "    volumes:\n      - "+vol+"\n")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("volume %s (-want +got):\n%s", vol, diff)
		}
	}
}

func TestNotCompose(t *testing.T) {
	if Sniff([]byte("kind: Pod\n")) || !Sniff([]byte("version: '3'\nservices:\n")) {
		t.Error("Sniff")
	}
	fs, err := Scan(t.Context(), "compose.yaml", []byte("services: [1, 2]\nother: {}\n"), misconfig.Options{})
	if err != nil || len(fs) != 0 {
		t.Errorf("%v %v", fs, err)
	}
	_, err = Scan(t.Context(), "compose.yaml", []byte("services:\n  a: [\n"), misconfig.Options{})
	if err == nil || !strings.Contains(err.Error(), "compose.yaml") {
		t.Errorf("err = %v", err)
	}
}
