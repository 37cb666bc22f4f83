package dockerfile

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func scan(t *testing.T, df string, opts misconfig.Options) []misconfig.Finding {
	t.Helper()
	fs, err := Scan(t.Context(), "Dockerfile", []byte(df), opts)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func idsAt(fs []misconfig.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"@"+strconv.Itoa(f.Line))
	}
	return out
}

func TestSplitShell(t *testing.T) {
	type cmd struct {
		Words []string
		Piped bool
	}
	for in, want := range map[string][]cmd{
		"apt-get update && apt-get install -y curl": {{[]string{"apt-get", "update"}, false}, {[]string{"apt-get", "install", "-y", "curl"}, false}},
		"curl -fsSL https://x | sudo bash -s -- -y": {{[]string{"curl", "-fsSL", "https://x"}, false}, {[]string{"sudo", "bash", "-s", "--", "-y"}, true}},
		"DEBIAN_FRONTEND=noninteractive apt-get -qq install x >/dev/null 2>&1; echo 'a && b' \"c|d\"": {
			{[]string{"apt-get", "-qq", "install", "x"}, false}, {[]string{"echo", "a && b", "c|d"}, false}},
		"if [ -f x ]; then rm -rf /var/lib/apt/lists/*; fi":                 {{[]string{"[", "-f", "x", "]"}, false}, {[]string{"rm", "-rf", "/var/lib/apt/lists/*"}, false}},
		"sh -c \"$(curl -fsSL https://x/install.sh)\" # comment && sudo rm": {{[]string{"sh", "-c", "$(curl -fsSL https://x/install.sh)"}, false}},
		"bash <(curl -s https://x)":                                         {{[]string{"bash", "<(curl -s https://x)"}, false}},
		"make \\\n  install":                                                {{[]string{"make", "install"}, false}},
		"(cd /src && make) || exit 1":                                       {{[]string{"cd", "/src"}, false}, {[]string{"make"}, false}, {[]string{"exit", "1"}, false}},
		"cat <<EOF > /etc/x":                                                {{[]string{"cat"}, false}},
		"echo `uname -a` && x=1 y":                                          {{[]string{"echo", "`uname -a`"}, false}, {[]string{"y"}, false}},
		"a &> log & b":                                                      {{[]string{"a"}, false}, {[]string{"b"}, false}},
		"unterminated 'quote and $(paren":                                   {{[]string{"unterminated", "quote and $(paren"}, false}},
	} {
		var got []cmd
		for _, c := range splitShell(in) {
			got = append(got, cmd{c.words, c.piped})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("splitShell(%q) (-want +got):\n%s", in, diff)
		}
	}
	n, args, sudo := simpleCmd{words: []string{"sudo", "-u", "app", "env", "A=1", "/usr/bin/apt-get", "install"}}.name()
	if n != "apt-get" || !slices.Equal(args, []string{"install"}) || !sudo {
		t.Errorf("name() = %s %v %v", n, args, sudo)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "alpine", "T": "3.20", "E": ""}
	for in, want := range map[string]struct {
		out string
		ok  bool
	}{
		"${A}:${T}":      {"alpine:3.20", true},
		"$A:$T":          {"alpine:3.20", true},
		"${B:-node}:20":  {"node:20", true},
		"${E:-x}":        {"x", true},
		"${B}":           {"", false},
		"${B:?required}": {"", false},
		"repo/${A:+img}": {"repo/img", true},
		"plain":          {"plain", true},
		"${unterminated": {"${unterminated", false},
	} {
		out, ok := expand(in, vars)
		if out != want.out || ok != want.ok {
			t.Errorf("expand(%q) = %q %v, want %q %v", in, out, ok, want.out, want.ok)
		}
	}
}

func TestWorldWritable(t *testing.T) {
	for mode, want := range map[string]bool{
		"777": true, "0777": true, "1777": true, "666": true, "o+w": true, "a+rwx": true, "ugo=rwx": true,
		"755": false, "644": false, "u+w": false, "g+w": false, "+x": false, "o-w": false, "u=rwx,o=rx": false, "go-w,o+rw": true,
	} {
		if got := worldWritable(mode); got != want {
			t.Errorf("worldWritable(%s) = %v", mode, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                "",
		"only comments":        "# nothing\n# here\n",
		"unterminated heredoc": "FROM alpine\nRUN <<EOF\necho hi\n",
		"bad escape directive": "# escape=xx\nFROM alpine\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Scan(t.Context(), "ci/Dockerfile", []byte(in), misconfig.Options{})
			if err == nil || !strings.HasPrefix(err.Error(), "ci/Dockerfile") {
				t.Errorf("err = %v", err)
			}
		})
	}
	_, err := Scan(t.Context(), "Dockerfile", []byte(strings.Repeat("#\n", 100)), misconfig.Options{MaxBytes: 10})
	if !errors.Is(err, misconfig.ErrTooLarge) {
		t.Errorf("size limit: %v", err)
	}
}

const clean = "FROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000\nUSER 10001\nHEALTHCHECK NONE\n"

func TestMultiStageScope(t *testing.T) {
	// USER and HEALTHCHECK are inherited from the stage the final one is
	// built FROM; a builder stage's apt cache does not ship.
	df := "FROM debian:12@sha256:1111111111111111111111111111111111111111111111111111111111111111 AS base\n" +
		"USER 10001\nHEALTHCHECK CMD [\"true\"]\n" +
		"FROM base AS builder\nUSER root\nRUN apt-get update && apt-get install -y gcc\n" +
		"FROM base\nCMD [\"app\"]\n"
	if fs := scan(t, df, misconfig.Options{}); len(fs) != 0 {
		t.Errorf("findings: %v", idsAt(fs))
	}
	// The same install in the shipped chain is reported.
	df2 := strings.Replace(df, "FROM base\nCMD", "FROM builder\nCMD", 1)
	got := idsAt(scan(t, df2, misconfig.Options{}))
	want := []string{"BH-DF-001@5", "BH-DF-007@6", "BH-DF-008@6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestOneFindingPerCheckPerRun(t *testing.T) {
	df := clean + "RUN chmod 777 /a && chmod 777 /b && curl x | sh && wget -O- y | bash\n"
	got := idsAt(scan(t, df, misconfig.Options{}))
	if diff := cmp.Diff([]string{"BH-DF-006@4", "BH-DF-013@4"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLocatesPhysicalLine(t *testing.T) {
	df := clean + "RUN set -eux; \\\n    mkdir /data; \\\n    chmod 0777 /data; \\\n    echo done\n"
	fs := scan(t, df, misconfig.Options{})
	if len(fs) != 1 || fs[0].ID != misconfig.DFChmodWorld || fs[0].Line != 6 {
		t.Errorf("findings: %v", idsAt(fs))
	}
}

func TestSkipAndSuppress(t *testing.T) {
	df := "FROM node\nRUN cd /app && npm ci\n"
	all := idsAt(scan(t, df, misconfig.Options{}))
	if len(all) < 4 {
		t.Fatalf("findings: %v", all)
	}
	got := idsAt(scan(t, df, misconfig.Options{Skip: []string{"BH-DF-00*", "BH-DF-016"}}))
	if diff := cmp.Diff([]string{"BH-DF-019@2"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	df = "# bulkhead:ignore BH-DF-001 BH-DF-002 BH-DF-016 base sets a user\nFROM node\n# bulkhead:ignore BH-DF-019\nRUN cd /app && npm ci\n"
	if fs := scan(t, df, misconfig.Options{}); len(fs) != 0 {
		t.Errorf("suppressed findings reported: %v", idsAt(fs))
	}
}

func TestEscapeDirective(t *testing.T) {
	df := "# escape=`\nFROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000\nUSER 1\nHEALTHCHECK NONE\nRUN apk add `\n    curl\n"
	got := idsAt(scan(t, df, misconfig.Options{}))
	if diff := cmp.Diff([]string{"BH-DF-010@5"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHeredocInterpreters(t *testing.T) {
	for shebang, shell := range map[string]bool{"#!/bin/sh -e": true, "#!/usr/bin/env bash": true, "#!/usr/bin/env -S python3 -u": false, "#!/usr/bin/python3": false, "#!": true} {
		if got := shebangIsShell(shebang); got != shell {
			t.Errorf("shebangIsShell(%q) = %v", shebang, got)
		}
	}
	df := clean + "RUN <<EOF\n#!/usr/bin/env python3\nimport os; os.system('chmod 777 /x')\nEOF\nRUN <<EOF\n#!/bin/bash\nchmod 777 /y\nEOF\n"
	got := idsAt(scan(t, df, misconfig.Options{}))
	if diff := cmp.Diff([]string{"BH-DF-013@10"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
