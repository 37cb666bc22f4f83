package audit

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseDaemonConfig(f *testing.F) {
	for _, s := range []string{goodDaemonJSON, badDaemonJSON, `{}`, ``, `{"default-ulimits": {"nofile": 1}}`, `{"hosts": [1]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseDaemonConfig(b)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
	})
}

func FuzzParseAuditRules(f *testing.F) {
	f.Add(allAuditRules)
	f.Add("-a always,exit -F path=/usr/bin/runc -F perm=x\n-w\n-F\n-F path=\n")
	f.Add("-w/etc/docker\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseAuditRules(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.Path == "" {
				t.Fatalf("empty path from %q", r.Line)
			}
			if !strings.Contains(s, r.Path) {
				t.Fatalf("path %q not in input", r.Path)
			}
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n41 22 0:5 / /mnt/a\\040b rw - tmpfs t\\1 rw\n")
	f.Add("/dev/sda1 / ext4 rw 0 0\n\\\\\\ \\0 \\777\n")
	f.Fuzz(func(t *testing.T, s string) {
		m1, err1 := ParseMountinfo(strings.NewReader(s))
		m2, err2 := ParseMounts(strings.NewReader(s))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("line errors differ: %v vs %v", err1, err2)
		}
		if len(m1) > bytes.Count([]byte(s), []byte("\n"))+1 || len(m2) > bytes.Count([]byte(s), []byte("\n"))+1 {
			t.Fatal("more mounts than lines")
		}
	})
}

func FuzzParseDockerdArgs(f *testing.F) {
	f.Add("-H\x00tcp://0.0.0.0:2375\x00--icc=false\x00--default-ulimit\x00nofile=1:2\x00-l")
	f.Fuzz(func(t *testing.T, s string) {
		var c DaemonConfig
		ParseDockerdArgs(strings.Split(s, "\x00"), &c)
	})
}
