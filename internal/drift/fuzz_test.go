package drift

import (
	"debug/elf"
	"encoding/binary"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSniff feeds arbitrary file heads to the ELF/script sniffer: it must
// never panic and never read past what it was given.
func FuzzSniff(f *testing.F) {
	le := binary.LittleEndian
	f.Add(mkELF(elf.ELFCLASS64, le, elf.ET_DYN, elf.PT_INTERP), uint32(0o755))
	f.Add(mkELF(elf.ELFCLASS64, le, elf.ET_DYN, elf.PT_LOAD), uint32(0o644))
	f.Add(mkELF(elf.ELFCLASS32, binary.BigEndian, elf.ET_EXEC), uint32(0o755))
	f.Add([]byte("#!/bin/sh\n"), uint32(0o755))
	f.Add([]byte("\x7fELF"), uint32(0))
	f.Fuzz(func(t *testing.T, head []byte, mode uint32) {
		got := Sniff(head, fs.FileMode(mode))
		if got.Runnable() && got != TypeScript && !strings.HasPrefix(string(head), "\x7fELF") {
			t.Fatalf("non-ELF %q classified %v", head, got)
		}
		_ = got.String()
	})
}

// FuzzParseCgroup feeds arbitrary /proc/PID/cgroup content.
func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("12:pids:/docker/abc\n0::/\n"))
	f.Add([]byte("0::/system.slice/docker-abc.scope\n"))
	f.Add([]byte("::\n:::\n1:a:b:c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := parseCgroup(b)
		for _, l := range lines {
			if !strings.HasPrefix(l.Path, "/") {
				t.Fatalf("relative path accepted: %+v", l)
			}
		}
		if sel, ok := containerCgroup(lines); ok {
			if sel.Path == "/" {
				t.Fatalf("root cgroup selected")
			}
			if !inCgroup(lines, sel) {
				t.Fatalf("init not in its own cgroup: %+v", sel)
			}
		}
	})
}

// FuzzMaskCmdline feeds arbitrary command lines: the output is bounded,
// has no control characters, and never shows a secret-looking value.
func FuzzMaskCmdline(f *testing.F) {
	f.Add([]byte("app\x00--password=hunter2\x00"))
	f.Add([]byte("app\x00--token\x00abc\x00"))
	f.Add([]byte("\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := MaskCmdline(b)
		if len(out) > showCmdline+len("…") {
			t.Fatalf("output of %d bytes", len(out))
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", out)
			}
		}
		if strings.Contains(string(b), "password=hunter2") && strings.Contains(out, "hunter2") && utf8.Valid(b) {
			t.Fatalf("secret shown: %q", out)
		}
	})
}
