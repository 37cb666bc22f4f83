package drift

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mkELF builds an ELF header with program headers of the given types.
func mkELF(class elf.Class, order binary.ByteOrder, typ elf.Type, progs ...elf.ProgType) []byte {
	b := make([]byte, 64)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(class)
	if order == binary.LittleEndian {
		b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	} else {
		b[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	b[elf.EI_VERSION] = 1
	order.PutUint16(b[16:], uint16(typ))
	if class == elf.ELFCLASS64 {
		order.PutUint64(b[32:], 64)
		order.PutUint16(b[54:], 56)
		order.PutUint16(b[56:], uint16(len(progs)))
		for _, p := range progs {
			ph := make([]byte, 56)
			order.PutUint32(ph, uint32(p))
			b = append(b, ph...)
		}
		return b
	}
	b = b[:52]
	order.PutUint32(b[28:], 52)
	order.PutUint16(b[42:], 32)
	order.PutUint16(b[44:], uint16(len(progs)))
	for _, p := range progs {
		ph := make([]byte, 32)
		order.PutUint32(ph, uint32(p))
		b = append(b, ph...)
	}
	return b
}

func TestSniff(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	pie := mkELF(elf.ELFCLASS64, le, elf.ET_DYN, elf.PT_PHDR, elf.PT_INTERP, elf.PT_LOAD)
	tests := []struct {
		name string
		head []byte
		mode fs.FileMode
		want FileType
	}{
		{"static executable", mkELF(elf.ELFCLASS64, le, elf.ET_EXEC, elf.PT_LOAD), 0o755, TypeExecutable},
		{"pie executable", pie, 0o755, TypeExecutable},
		{"pie without exec bit", pie, 0o644, TypeExecutable},
		{"shared library", mkELF(elf.ELFCLASS64, le, elf.ET_DYN, elf.PT_LOAD, elf.PT_DYNAMIC), 0o644, TypeLibrary},
		{"32-bit big-endian library", mkELF(elf.ELFCLASS32, be, elf.ET_DYN, elf.PT_LOAD), 0o644, TypeLibrary},
		{"32-bit executable", mkELF(elf.ELFCLASS32, le, elf.ET_DYN, elf.PT_INTERP), 0o755, TypeExecutable},
		{"relocatable object", mkELF(elf.ELFCLASS64, le, elf.ET_REL), 0o644, TypeELFOther},
		{"program headers cut off", pie[:70], 0o755, TypeLibrary},
		{"truncated header", pie[:30], 0o755, TypeELFOther},
		{"bad class", append([]byte("\x7fELF\x09\x01"), make([]byte, 60)...), 0o755, TypeELFOther},
		{"script", []byte("#!/bin/sh\necho hi\n"), 0o755, TypeScript},
		{"script without exec bit", []byte("#!/bin/sh\n"), 0o644, TypeData},
		{"text", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644, TypeData},
		{"empty", nil, 0o755, TypeData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.head, tt.mode); got != tt.want {
				t.Errorf("Sniff = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSniffRealFiles classifies real binaries of the fixture rootfs.
func TestSniffRealFiles(t *testing.T) {
	root := filepath.Join(fixture.Dir(t), "rootfs-base")
	for p, want := range map[string]FileType{
		"usr/bin/sleep": TypeExecutable,
		"usr/lib/x86_64-linux-gnu/libz.so.1.2.13":       TypeLibrary,
		"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": TypeLibrary,
		"usr/bin/zcat": TypeScript,
		"etc/passwd":   TypeData,
	} {
		f, err := os.Open(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		head := make([]byte, SniffSize)
		n, _ := f.Read(head)
		f.Close()
		if got := Sniff(head[:n], st.Mode()); got != want {
			t.Errorf("%s: %v, want %v", p, got, want)
		}
	}
}

func TestLibraryName(t *testing.T) {
	for name, want := range map[string]bool{
		"/usr/lib/libc.so.6": true, "/x/libfoo.so": true, "/x/libssl.so.3.0.1": true,
		"/x/.so": false, "/x/so": false, "/x/libso.sock": false, "/x/a.sox": false, "/x/foo.so.txt": true,
	} {
		if got := LibraryName(name); got != want {
			t.Errorf("LibraryName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSystemDir(t *testing.T) {
	for p, want := range map[string]bool{
		"/usr/bin/x": true, "/etc/passwd": true, "/lib64/ld.so": true, "/libx32/a": true, "/sbin/init": true, "/bin/sh": true,
		"/tmp/x": false, "/var/lib/dpkg/status": false, "/opt/lib/x": false, "/usrlocal": false, "/etcetera/x": false,
	} {
		if got := systemDir(p); got != want {
			t.Errorf("systemDir(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestPlanChanges(t *testing.T) {
	ch := func(k container.ChangeType, p string) container.FilesystemChange {
		return container.FilesystemChange{Kind: k, Path: p}
	}
	pl := planChanges([]container.FilesystemChange{
		ch(container.ChangeModify, "/etc"),
		ch(container.ChangeModify, "/etc/passwd"),
		ch(container.ChangeAdd, "/tmp/new"),
		ch(container.ChangeAdd, "/tmp/new/x"),
		ch(container.ChangeDelete, "/usr/bin/wall"),
		ch(container.ChangeModify, "/var/lib/dpkg/status"),
		ch(container.ChangeAdd, "/var/lib/dpkg/status.d/foo"),
		ch(container.ChangeAdd, "/var/lib/dpkg/status.d/foo.md5sums"),
		ch(container.ChangeModify, "/var/lib/dpkg"),
		ch(container.ChangeAdd, "/var/lib/dpkg/status.d"),
	})
	if diff := cmp.Diff([]string{"/etc/passwd", "/tmp/new/x", "/var/lib/dpkg/status", "/var/lib/dpkg/status.d/foo", "/var/lib/dpkg/status.d/foo.md5sums"}, pl.files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/tmp/new", "/var/lib/dpkg/status.d"}, pl.addedDirs); diff != "" {
		t.Errorf("addedDirs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/usr/bin/wall"}, pl.deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/foo"}, pl.pkgdb); diff != "" {
		t.Errorf("pkgdb (-want +got):\n%s", diff)
	}
	want := map[string]bool{"/etc/passwd": true, "/usr/bin/wall": true, "/var/lib/dpkg/status": true, "/var/lib/dpkg/status.d/foo": true}
	if diff := cmp.Diff(want, pl.imagePaths()); diff != "" {
		t.Errorf("imagePaths (-want +got):\n%s", diff)
	}
}

func TestClassifyFile(t *testing.T) {
	exe := mkELF(elf.ELFCLASS64, binary.LittleEndian, elf.ET_DYN, elf.PT_INTERP)
	lib := mkELF(elf.ELFCLASS64, binary.LittleEndian, elf.ET_DYN, elf.PT_LOAD)
	reg := func(mode fs.FileMode, head []byte, sum string) *fileState {
		return &fileState{mode: mode, size: int64(len(head)), ftype: Sniff(head, mode), sha256: sum}
	}
	tests := []struct {
		name     string
		path     string
		added    bool
		old, cur *fileState
		kind     Kind
		sev      string
	}{
		{"added elf anywhere", "/tmp/x", true, nil, reg(0o755, exe, "aa"), KindAddedExecutable, high},
		{"added script", "/home/u/run.sh", true, nil, reg(0o755, []byte("#!/bin/sh\n"), "aa"), KindAddedExecutable, high},
		{"replaced binary", "/usr/bin/ls", false, reg(0o755, exe, "aa"), reg(0o755, exe, "bb"), KindModifiedExecutable, high},
		{"added library by content", "/opt/x/plugin", true, nil, reg(0o644, lib, "aa"), KindAddedLibrary, medium},
		{"added library by name", "/tmp/libevil.so.1", true, nil, reg(0o755, exe, "aa"), KindAddedLibrary, medium},
		{"changed library", "/usr/lib/libz.so.1", false, reg(0o644, lib, "aa"), reg(0o644, lib, "bb"), KindModifiedLibrary, medium},
		{"etc config", "/etc/passwd", false, reg(0o644, []byte("root"), "aa"), reg(0o644, []byte("root2"), "bb"), KindModified, medium},
		{"usr data added", "/usr/share/x.txt", true, nil, reg(0o644, []byte("x"), "aa"), KindAdded, low},
		{"setuid added", "/usr/bin/passwd", false, reg(0o755, exe, "aa"), reg(0o755|fs.ModeSetuid, exe, "aa"), KindModified, high},
		{"chmod in usr", "/usr/share/x", false, reg(0o644, []byte("x"), "aa"), reg(0o600, []byte("x"), "aa"), KindModified, low},
		{"metacopy chmod", "/usr/bin/ls", false, reg(0o755, exe, "aa"), &fileState{mode: 0o755 | fs.ModeSetuid, size: int64(len(exe)), metacopy: true}, KindModified, high},
		{"symlink in bin", "/usr/bin/evil", true, nil, &fileState{mode: fs.ModeSymlink | 0o777, link: "/tmp/x"}, KindAdded, low},
		{"change without image copy is an addition", "/usr/bin/new", false, nil, reg(0o755, exe, "aa"), KindAddedExecutable, high},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := classifyFile(tt.path, tt.added, tt.old, tt.cur)
			if !ok {
				t.Fatalf("no finding, want %s", tt.kind)
			}
			if f.Kind != tt.kind || f.Severity != tt.sev || f.Path != tt.path {
				t.Errorf("got %s %s %s, want %s %s", f.Kind, f.Severity, f.Path, tt.kind, tt.sev)
			}
		})
	}
	quiet := []struct {
		name     string
		path     string
		old, cur *fileState
	}{
		{"data in tmp", "/tmp/log.txt", nil, reg(0o644, []byte("x"), "aa")},
		{"script without exec bit in var", "/var/x.sh", nil, reg(0o644, []byte("#!/bin/sh"), "aa")},
		{"touch in usr", "/usr/bin/ls", reg(0o755, exe, "aa"), reg(0o755, exe, "aa")},
		{"directory", "/usr/local", nil, &fileState{mode: fs.ModeDir | 0o755}},
		{"symlink in tmp", "/tmp/l", nil, &fileState{mode: fs.ModeSymlink | 0o777, link: "/x"}},
	}
	for _, tt := range quiet {
		if f, ok := classifyFile(tt.path, tt.old == nil, tt.old, tt.cur); ok {
			t.Errorf("%s: unexpected finding %+v", tt.name, f)
		}
	}
}

func TestDiffPackages(t *testing.T) {
	deb := func(name, v string) inventory.Package {
		return inventory.Package{Type: inventory.TypeDeb, Name: name, Version: v, Arch: "amd64"}
	}
	before := []inventory.Package{deb("a", "1"), deb("b", "1"), deb("c", "1")}
	after := []inventory.Package{deb("a", "1"), deb("b", "2"), deb("d", "1")}
	var got []string
	for _, f := range DiffPackages(before, after) {
		got = append(got, string(f.Kind)+" "+f.Detail.Package+" "+f.Detail.OldVersion+">"+f.Detail.NewVersion)
	}
	want := []string{"package-changed b 1>2", "package-removed c 1>", "package-installed d >1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if fs := DiffPackages(before, before); len(fs) != 0 {
		t.Errorf("no change gave %+v", fs)
	}
}

func TestMaskCmdline(t *testing.T) {
	for in, want := range map[string]string{
		"sleep\x00300\x00":                        "sleep 300",
		"app\x00--password=hunter2\x00-v\x00":     "app --password=**** -v",
		"app\x00--api-token\x00abc123\x00run\x00": "app --api-token **** run",
		"env\x00DB_PASS=x\x00AWS_KEY=y\x00ls":     "env DB_PASS=**** AWS_KEY=**** ls",
		"a\x1b[31mred":                            "a?[31mred",
		strings.Repeat("x", 2000):                 strings.Repeat("x", 512) + "…",
	} {
		if got := MaskCmdline([]byte(in)); got != want {
			t.Errorf("MaskCmdline(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCgroup(t *testing.T) {
	v1 := "12:pids:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n"
	v2 := "0::/system.slice/docker-abc.scope\n"
	sel, ok := containerCgroup(parseCgroup([]byte(v1)))
	if !ok || sel.Controllers != "pids" || sel.Path != "/docker/abc" {
		t.Errorf("v1 selector %+v", sel)
	}
	if !inCgroup(parseCgroup([]byte("12:pids:/docker/abc/sub\n")), sel) {
		t.Error("a child cgroup is part of the container")
	}
	if inCgroup(parseCgroup([]byte("12:pids:/docker/abcdef\n")), sel) {
		t.Error("a cgroup sharing a prefix is another container")
	}
	sel2, ok := containerCgroup(parseCgroup([]byte(v2)))
	if !ok || sel2.Hierarchy != "0" || sel2.Path != "/system.slice/docker-abc.scope" {
		t.Errorf("v2 selector %+v", sel2)
	}
	if _, ok := containerCgroup(parseCgroup([]byte("0::/\n"))); ok {
		t.Error("the root cgroup identifies no container")
	}
	if got := parseCgroup([]byte("garbage\n1:x\n2:y:relative\n")); len(got) != 0 {
		t.Errorf("malformed lines parsed: %+v", got)
	}
}

// fakeProc builds a /proc tree: init 100 and 101 in the container, 102 in
// a cgroup that shares its prefix, 103 in the root cgroup.
func fakeProc(t testing.TB) (procRoot, prog, dropped string) {
	dir := t.TempDir()
	procRoot = filepath.Join(dir, "proc")
	prog = filepath.Join(dir, "sleep")
	// The kernel marks an unlinked program " (deleted)"; a file of that
	// name stands in for it.
	dropped = filepath.Join(dir, "x (deleted)")
	must(t, os.WriteFile(prog, []byte("image program"), 0o755))
	must(t, os.WriteFile(dropped, []byte("dropped program"), 0o755))
	for _, p := range []struct{ pid, cgroup, exe, cmd string }{
		{"100", "0::/docker/abc\n", prog, "sleep\x00300\x00"},
		{"101", "0::/docker/abc/sub\n", dropped, "x\x00--token=s3cret\x00"},
		{"102", "0::/docker/abcdef\n", dropped, "other\x00"},
		{"103", "0::/\n", prog, "host\x00"},
	} {
		d := filepath.Join(procRoot, p.pid)
		must(t, os.MkdirAll(d, 0o755))
		must(t, os.WriteFile(filepath.Join(d, "cgroup"), []byte(p.cgroup), 0o644))
		must(t, os.WriteFile(filepath.Join(d, "cmdline"), []byte(p.cmd), 0o644))
		must(t, os.Symlink(p.exe, filepath.Join(d, "exe")))
	}
	// A zombie: no exe target.
	d := filepath.Join(procRoot, "104")
	must(t, os.MkdirAll(d, 0o755))
	must(t, os.WriteFile(filepath.Join(d, "cgroup"), []byte("0::/docker/abc\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(procRoot, "self"), nil, 0o644))
	return procRoot, prog, dropped
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestProcesses(t *testing.T) {
	procRoot, prog, dropped := fakeProc(t)
	procs, warns := listProcesses(procRoot, 100, 1<<20)
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	var pids []int
	for _, p := range procs {
		pids = append(pids, p.pid)
	}
	if !slices.Equal(pids, []int{100, 101}) {
		t.Fatalf("pids %v, want [100 101]", pids)
	}
	if procs[1].exe != strings.TrimSuffix(dropped, deletedSuffix) || !procs[1].deleted || procs[1].cmdline != "x --token=****" {
		t.Errorf("dropped process: %+v", procs[1])
	}
	// The image holds the program of 100 with the same content, and the
	// dropped program's path with other content.
	img := &imageIndex{files: map[string]*fileState{prog: {mode: 0o755, size: procs[0].size, sha256: procs[0].sha256}}}
	res := &Result{}
	checkProcesses(res, procs, img, nil)
	if got := summarize(res.Findings); !slices.Equal(got, []want{{KindExecNotInImage, procs[1].exe, high, ""}}) {
		t.Errorf("findings %+v", got)
	}
	res = &Result{}
	checkProcesses(res, procs, nil, []string{"/data", filepath.Dir(prog)})
	if len(res.Findings) != 2 || !strings.Contains(res.Findings[0].Detail.Note, filepath.Dir(prog)) {
		t.Errorf("a program from a mount says so: %+v", res.Findings)
	}
	img.files[procs[1].exe] = &fileState{mode: 0o755, size: 3, sha256: "00"}
	img.files[prog].sha256 = "ff"
	res = &Result{}
	checkProcesses(res, procs, img, nil)
	if got := summarize(res.Findings); !slices.Equal(got, []want{{KindExecModified, prog, high, ""}, {KindExecModified, procs[1].exe, high, ""}}) {
		t.Errorf("findings %+v", got)
	}

	// Nothing readable: one warning, no processes.
	procs, warns = listProcesses(filepath.Join(t.TempDir(), "none"), 100, 1<<20)
	if len(procs) != 0 || len(warns) != 1 {
		t.Errorf("missing /proc: %d processes, warnings %q", len(procs), warns)
	}
}

func TestWriteGolden(t *testing.T) {
	c := ContainerRef{Name: "web-1", ID: "3f2a9c0d1e2b4a5f6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b"}
	rep := &Report{Host: "host-1", Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	res := &Result{Container: c, Image: "shop/web:1.4", ImageID: "sha256:abc", Running: true, Changes: 4, Processes: 2, Findings: []Finding{
		{Path: "/var/lib/dpkg/status", Kind: KindPackageInstalled, Severity: low, Detail: Detail{Package: "netcat", PackageType: "deb", NewVersion: "1.10-47"}},
		{Path: "/etc/passwd", Kind: KindModified, Severity: medium, Detail: Detail{Change: "C", FileType: "data", OldSize: ptr[int64](839), NewSize: ptr[int64](861), OldSHA256: "21352194cc533bc5", NewSHA256: "6a558892d7bfda39", OldMode: "-rw-r--r--", NewMode: "-rw-r--r--"}},
		{Path: "/tmp/x", Kind: KindAddedExecutable, Severity: high, Detail: Detail{Change: "A", FileType: "elf-executable", NewSize: ptr[int64](43888), NewSHA256: "4add4bb89d8ca0e3", NewMode: "-rwxr-xr-x"}},
		{Path: "/tmp/x", Kind: KindExecNotInImage, Severity: high, Detail: Detail{PIDs: []int{4242}, Cmdline: "/tmp/x --token=****", NewSize: ptr[int64](43888), NewSHA256: "4add4bb89d8ca0e3"}},
	}}
	for i := range res.Findings {
		res.Findings[i].Container, res.Findings[i].Image = c, res.Image
	}
	SortFindings(res.Findings)
	rep.Add(res)
	rep.Add(&Result{Container: ContainerRef{Name: "db", ID: "77aa"}, Image: "postgres:16", Running: true, Processes: 5, Findings: []Finding{}})
	rep.AddError("gone-1", ErrContainerGone)
	for _, format := range Formats {
		if format == "syslog" {
			continue // carries the process id; TestEvents checks it
		}
		var buf bytes.Buffer
		if err := Write(&buf, format, rep); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "report."+format+".golden")
		if *update {
			must(t, os.MkdirAll("testdata", 0o755))
			must(t, os.WriteFile(golden, buf.Bytes(), 0o644))
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if diff := cmp.Diff(string(want), buf.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
	if err := Write(&bytes.Buffer{}, "xml", rep); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestParseDB feeds package databases of each format through the scan's
// analyzers and diffs them, as checkPackages does.
func TestParseDB(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		path          string
		before, after string
		want          []string
	}{
		{
			path:   "/lib/apk/db/installed",
			before: "P:musl\nV:1.2.5-r0\nA:x86_64\n\nP:busybox\nV:1.36.1-r28\nA:x86_64\n\n",
			after:  "P:musl\nV:1.2.5-r1\nA:x86_64\n\nP:socat\nV:1.8.0.0-r0\nA:x86_64\n\n",
			want:   []string{"package-removed apk busybox", "package-changed apk musl", "package-installed apk socat"},
		},
		{
			path:   "/var/lib/dpkg/status",
			before: "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n",
			after:  "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\nPackage: b\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n\n",
			want:   []string{"package-removed deb b"},
		},
		{
			path:   "/var/lib/dpkg/status.d/nc",
			before: "",
			after:  "Package: nc\nArchitecture: amd64\nVersion: 1.10\n\n",
			want:   []string{"package-installed deb nc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if !isPackageDB(tt.path) {
				t.Fatalf("%s is not a package database", tt.path)
			}
			before, err := parseDB(ctx, tt.path, []byte(tt.before), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			after, err := parseDB(ctx, tt.path, []byte(tt.after), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range DiffPackages(before, after) {
				got = append(got, string(f.Kind)+" "+f.Detail.PackageType+" "+f.Detail.Package)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, p := range []string{"/var/lib/dpkg/status-old", "/var/lib/dpkg/status.d/x.md5sums", "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages.db"} {
		if got, want := isPackageDB(p), strings.Contains(p, "rpm"); got != want {
			t.Errorf("isPackageDB(%s) = %v", p, got)
		}
	}
}
