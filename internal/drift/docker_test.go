package drift

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/dockertest"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

const testImage = dockertest.Image

func dockerEngine(tb testing.TB) *client.Client { return dockertest.Client(tb) }

func ensureImage(tb testing.TB, cli *client.Client) { dockertest.EnsureImage(tb, cli) }

func runContainer(tb testing.TB, cli *client.Client, cmd ...string) string {
	return dockertest.Run(tb, cli, cmd...)
}

func waitExe(tb testing.TB, cli *client.Client, id, exe string) int {
	return dockertest.WaitExe(tb, cli, id, exe)
}

type want struct {
	kind Kind
	path string
	sev  string
	pkg  string
}

func summarize(fs []Finding) []want {
	var out []want
	for _, f := range fs {
		out = append(out, want{f.Kind, f.Path, f.Severity, f.Detail.Package})
	}
	return out
}

func TestDockerDrift(t *testing.T) {
	cli := dockerEngine(t)
	ensureImage(t, cli)
	tests := []struct {
		name   string
		cmd    string
		exe    string
		want   []want
		checks func(t *testing.T, res *Result, pid int)
	}{
		{
			name: "untouched",
			cmd:  "exec sleep 300",
			exe:  "/usr/bin/sleep",
		},
		{
			name: "drop and execute",
			cmd:  "cp /bin/sleep /tmp/x; chmod +x /tmp/x; exec /tmp/x 300",
			exe:  "/tmp/x",
			want: []want{
				{KindExecNotInImage, "/tmp/x", high, ""},
				{KindAddedExecutable, "/tmp/x", high, ""},
			},
			checks: func(t *testing.T, res *Result, pid int) {
				f := res.Findings[0]
				if !slices.Contains(f.Detail.PIDs, pid) || f.Detail.Cmdline != "/tmp/x 300" {
					t.Errorf("exec finding: pids %v cmdline %q, want pid %d and \"/tmp/x 300\"", f.Detail.PIDs, f.Detail.Cmdline, pid)
				}
				if f.Detail.NewSHA256 != res.Findings[1].Detail.NewSHA256 || f.Detail.NewSHA256 == "" {
					t.Errorf("process hash %q and file hash %q differ", f.Detail.NewSHA256, res.Findings[1].Detail.NewSHA256)
				}
			},
		},
		{
			name: "drop, execute, delete",
			cmd:  "cp /bin/sleep /tmp/y; chmod +x /tmp/y; /tmp/y 300 & sleep 0.5; rm /tmp/y; exec sleep 300",
			exe:  "/usr/bin/sleep",
			want: []want{{KindExecNotInImage, "/tmp/y", high, ""}},
			checks: func(t *testing.T, res *Result, _ int) {
				if !res.Findings[0].Detail.ExeDeleted {
					t.Errorf("exeDeleted not set: %+v", res.Findings[0].Detail)
				}
			},
		},
		{
			name: "same-path replacement",
			cmd:  "cp /bin/sleep /usr/bin/true; exec /usr/bin/true 300",
			exe:  "/usr/bin/true",
			want: []want{
				{KindExecModified, "/usr/bin/true", high, ""},
				{KindModifiedExecutable, "/usr/bin/true", high, ""},
			},
			checks: func(t *testing.T, res *Result, _ int) {
				d := res.Findings[0].Detail
				if d.OldSHA256 == d.NewSHA256 || d.OldSize == nil || d.NewSize == nil || *d.OldSize == *d.NewSize {
					t.Errorf("exec-modified detail does not show the difference: %+v", d)
				}
			},
		},
		{
			name: "passwd edited",
			cmd:  "echo 'evil:x:0:0::/:/bin/sh' >> /etc/passwd; exec sleep 300",
			exe:  "/usr/bin/sleep",
			want: []want{{KindModified, "/etc/passwd", medium, ""}},
			checks: func(t *testing.T, res *Result, _ int) {
				d := res.Findings[0].Detail
				if d.OldSize == nil || d.NewSize == nil || *d.NewSize != *d.OldSize+int64(len("evil:x:0:0::/:/bin/sh\n")) {
					t.Errorf("sizes: %+v", d)
				}
			},
		},
		{
			name: "library dropped",
			cmd:  "mkdir -p /opt/x; cp /usr/lib/x86_64-linux-gnu/libz.so.1 /opt/x/libevil.so; exec sleep 300",
			exe:  "/usr/bin/sleep",
			want: []want{{KindAddedLibrary, "/opt/x/libevil.so", medium, ""}},
		},
		{
			name: "packages",
			cmd: "dpkg --purge --force-depends debian-archive-keyring >/dev/null 2>&1; " +
				"sed -i '/^Package: gpgv$/,/^$/ s/^Version: .*/Version: 9.9-9/' /var/lib/dpkg/status; " +
				"printf '\\nPackage: evil-tool\\nStatus: install ok installed\\nArchitecture: amd64\\nVersion: 6.6.6\\n' >> /var/lib/dpkg/status; " +
				"exec sleep 300",
			exe: "/usr/bin/sleep",
			checks: func(t *testing.T, res *Result, _ int) {
				var got []string
				for _, f := range res.Findings {
					if strings.HasPrefix(string(f.Kind), "package-") {
						got = append(got, fmt.Sprintf("%s %s %s>%s", f.Kind, f.Detail.Package, f.Detail.OldVersion, f.Detail.NewVersion))
					}
				}
				wantPkgs := []string{
					"package-installed evil-tool >6.6.6",
					"package-removed debian-archive-keyring " + fixtureVersion(t, "debian-archive-keyring") + ">",
					"package-changed gpgv " + fixtureVersion(t, "gpgv") + ">9.9-9",
				}
				slices.Sort(got)
				slices.Sort(wantPkgs)
				if !slices.Equal(got, wantPkgs) {
					t.Errorf("package findings:\n got %q\nwant %q", got, wantPkgs)
				}
			},
		},
	}
	// Each case runs once per way of reading the container's files: from
	// its overlay2 directory on this host, and through the Engine API.
	detectors := map[string]*Detector{
		"host": New(cli, Options{TempDir: t.TempDir()}),
		"api":  New(cli, Options{TempDir: t.TempDir(), APIOnly: true}),
	}
	for _, d := range detectors {
		defer d.Close()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := runContainer(t, cli, "sh", "-c", tt.cmd)
			pid := waitExe(t, cli, id, tt.exe)
			for _, mode := range []string{"host", "api"} {
				t.Run(mode, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					res, err := detectors[mode].Detect(ctx, id[:12])
					if err != nil {
						t.Fatalf("Detect: %v", err)
					}
					if res.Container.ID != id || !res.Running || res.Image != testImage || res.Processes < 1 || res.FilesFrom != mode || res.ImageFrom != mode {
						t.Errorf("result header: %+v", res)
					}
					if len(res.Warnings) > 0 {
						t.Errorf("warnings: %q", res.Warnings)
					}
					if tt.want != nil || tt.checks == nil {
						if got := summarize(res.Findings); !slices.Equal(got, tt.want) {
							t.Errorf("findings:\n got %+v\nwant %+v", got, tt.want)
						}
					}
					for _, f := range res.Findings {
						if f.Container.ID != id || f.Image != testImage {
							t.Errorf("finding without its container: %+v", f)
						}
					}
					if tt.checks != nil && !t.Failed() {
						tt.checks(t, res, pid)
					}
				})
			}
		})
	}
}

// fixtureVersion is the version of pkg in the fixture's dpkg status.
func fixtureVersion(t *testing.T, pkg string) string {
	b, err := os.ReadFile(filepath.Join(fixture.Dir(t), "rootfs-base", "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			cur = v
		}
		if v, ok := strings.CutPrefix(line, "Version: "); ok && cur == pkg {
			return v
		}
	}
	t.Fatalf("fixture has no package %s", pkg)
	return ""
}
