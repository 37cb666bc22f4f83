package drift

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// thousandChanges makes 1,000 changed files: 900 data files under
// /usr/local (system directory: each is a finding), 50 dropped executables
// in /tmp, 50 edits of /etc files, and runs one dropped program.
const thousandChanges = `mkdir -p /usr/local/drift /tmp/bins /etc/drift
i=0; while [ $i -lt 900 ]; do echo $i > /usr/local/drift/f$i; i=$((i+1)); done
i=0; while [ $i -lt 50 ]; do cp /bin/true /tmp/bins/b$i; echo $i > /etc/drift/c$i; i=$((i+1)); done
cp /bin/sleep /tmp/x; exec /tmp/x 300`

// BenchmarkDetect1000 checks a container with ~1,000 changed files against
// the real dockerd. "warm" reuses the Detector's export of the image (the
// case of several containers of one image, or a watch loop); "cold"
// exports the image each time; "api" reads the container's files with one
// CopyFromContainer request each instead of from its overlay2 directory.
func BenchmarkDetect1000(b *testing.B) {
	cli := dockerEngine(b)
	id := runContainer(b, cli, "sh", "-c", thousandChanges)
	waitExe(b, cli, id, "/tmp/x")
	for _, mode := range []string{"cold", "warm", "warm-api"} {
		b.Run(mode, func(b *testing.B) {
			d := New(cli, Options{TempDir: b.TempDir(), APIOnly: mode == "warm-api"})
			defer d.Close()
			if mode != "cold" {
				if _, err := d.Detect(context.Background(), id); err != nil {
					b.Fatal(err)
				}
			}
			var res *Result
			for b.Loop() {
				if mode == "cold" {
					d.Close()
				}
				var err error
				if res, err = d.Detect(context.Background(), id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Changes), "changes")
			b.ReportMetric(float64(len(res.Findings)), "findings")
		})
	}
}

// thousandModified appends a line to 1,000 files of the image spread over
// /usr: each is a modified file to compare with the image's copy, and
// through the API each is its own request.
const thousandModified = `find /usr/share /usr/lib -type f | head -n 1000 | while read -r f; do echo >> "$f"; done; exec sleep 300`

// BenchmarkDetect1000Modified checks a container that modified 1,000
// files of its image (warm image export). Run the api case alone with
// -benchtime 1x: it makes one CopyFromContainer request per file.
func BenchmarkDetect1000Modified(b *testing.B) {
	cli := dockerEngine(b)
	id := runContainer(b, cli, "sh", "-c", thousandModified)
	waitExe(b, cli, id, "/usr/bin/sleep")
	for _, mode := range []string{"host", "api"} {
		b.Run(mode, func(b *testing.B) {
			d := New(cli, Options{TempDir: b.TempDir(), APIOnly: mode == "api"})
			defer d.Close()
			if _, err := d.Detect(context.Background(), id); err != nil {
				b.Fatal(err)
			}
			var res *Result
			for b.Loop() {
				var err error
				if res, err = d.Detect(context.Background(), id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Changes), "changes")
			b.ReportMetric(float64(len(res.Findings)), "findings")
		})
	}
}

// BenchmarkSniff classifies one program header.
func BenchmarkSniff(b *testing.B) {
	head := mkELF(elf.ELFCLASS64, binary.LittleEndian, elf.ET_DYN, elf.PT_PHDR, elf.PT_LOAD, elf.PT_LOAD, elf.PT_DYNAMIC, elf.PT_INTERP)
	for b.Loop() {
		if Sniff(head, 0o755) != TypeExecutable {
			b.Fatal("wrong type")
		}
	}
}

// BenchmarkListProcesses finds a container's 20 processes among 2,000 in a
// fake /proc.
func BenchmarkListProcesses(b *testing.B) {
	dir := b.TempDir()
	prog := filepath.Join(dir, "prog")
	must(b, os.WriteFile(prog, make([]byte, 64<<10), 0o755))
	for pid := 1; pid <= 2000; pid++ {
		d := filepath.Join(dir, "proc", strconv.Itoa(pid))
		must(b, os.MkdirAll(d, 0o755))
		cg := fmt.Sprintf("0::/docker/other%d\n", pid%50)
		if pid <= 20 {
			cg = "0::/docker/target\n"
		}
		must(b, os.WriteFile(filepath.Join(d, "cgroup"), []byte(cg), 0o644))
		must(b, os.WriteFile(filepath.Join(d, "cmdline"), []byte("prog\x00--flag\x00"), 0o644))
		must(b, os.Symlink(prog, filepath.Join(d, "exe")))
	}
	for b.Loop() {
		procs, warns := listProcesses(filepath.Join(dir, "proc"), 1, 1<<20)
		if len(procs) != 20 || len(warns) != 0 {
			b.Fatalf("%d processes, warnings %q", len(procs), warns)
		}
	}
}
