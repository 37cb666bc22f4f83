package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/drift"
	"github.com/bulkhead-sec/bulkhead/internal/source"
)

type driftFlags struct {
	format      string
	output      string
	exitCode    int
	dockerHost  string
	procRoot    string
	maxRead     int64
	parallel    int
	noProcesses bool
	apiOnly     bool
	timeout     time.Duration
}

func newDriftCmd(g *globals) *cobra.Command {
	f := &driftFlags{}
	cmd := &cobra.Command{
		Use:   "drift [CONTAINER...]",
		Short: "Compare running containers with their images: new programs, changed files and packages, programs run that the image does not hold",
		Long: `drift compares each running container (all of them when none is named;
names and ID prefixes are accepted) with the image it was started from:

  files     docker diff, with every added or changed executable and shared
            library recognised from its bytes, changes under /usr /bin /sbin
            /lib* /etc, and files of the image deleted
  packages  the dpkg, apk and rpm databases of the container against the
            image's: packages installed, removed or at another version
  processes programs running in the container (/proc/PID/exe under
            --proc-root) that the image does not hold, or holds with other
            content: the "drop and execute" pattern

On the Docker host, files are read from the container's and image's overlay2
directories (no symlink followed); with a remote engine or --api-only, through
the Engine API (CopyFromContainer, ImageSave).

Findings: exec-not-in-image, exec-modified, added-executable,
modified-executable (HIGH); added-library, modified-library, changes under
/etc (MEDIUM); other changes, deletions and package changes (LOW).

Exit codes: 0 done, 1 (with --exit-code 1) drift found, 2 error.`,
		Example: `  bulkhead drift
  bulkhead drift web-1 3f2a --format json
  bulkhead drift --format jsonl --exit-code 1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrift(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(drift.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when drift is found (0: never)")
	fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine address (default DOCKER_HOST)")
	fl.StringVar(&f.procRoot, "proc-root", "/proc", "the host's /proc, where the containers' processes are read")
	fl.Int64Var(&f.maxRead, "max-file-read", 64<<20, "bytes read and hashed of any one file at most")
	fl.IntVar(&f.parallel, "parallel", 4, "files read from a container at once")
	fl.BoolVar(&f.noProcesses, "no-processes", false, "do not check the containers' processes")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up on a container after this long (a stuck Docker Engine)")
	fl.BoolVar(&f.apiOnly, "api-only", false, "read container and image files only through the Engine API, not from overlay2 directories on this host (slower)")
	return cmd
}

func runDrift(ctx context.Context, g *globals, f *driftFlags, args []string) error {
	if !slices.Contains(drift.Formats, f.format) {
		return &exitError{ExitError, fmt.Errorf("unknown --format %q (use %s)", f.format, strings.Join(drift.Formats, "|"))}
	}
	cli, err := source.DockerClient(f.dockerHost)
	if err != nil {
		return &exitError{ExitError, err}
	}
	defer cli.Close()
	named := len(args) > 0
	ids := args
	if !named {
		list, err := cli.ContainerList(ctx, container.ListOptions{})
		if err != nil {
			return &exitError{ExitError, fmt.Errorf("list containers: %w (is the Docker Engine running and DOCKER_HOST right?)", err)}
		}
		for _, c := range list {
			ids = append(ids, c.ID)
		}
	}
	d := drift.New(cli, drift.Options{
		ProcRoot:    f.procRoot,
		MaxRead:     f.maxRead,
		Parallel:    f.parallel,
		NoProcesses: f.noProcesses,
		APIOnly:     f.apiOnly,
		TempDir:     filepath.Join(g.cacheDir, "tmp"),
	})
	defer d.Close()
	rep := &drift.Report{}
	failed := 0
	for _, id := range ids {
		cctx, cancel := context.WithTimeout(ctx, f.timeout)
		res, err := d.Detect(cctx, id)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return &exitError{ExitError, ctx.Err()}
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no answer within --timeout %s: %w (is the Docker Engine overloaded?)", f.timeout, err)
			}
			if !named && (errors.Is(err, drift.ErrContainerGone) || errors.Is(err, drift.ErrNotFound)) {
				g.logger.Warn("container exited before it was checked", "container", id[:min(12, len(id))])
				continue
			}
			failed++
			g.logger.Error("drift check failed", "container", id, "err", err)
			rep.AddError(id, err)
			continue
		}
		for _, w := range res.Warnings {
			g.logger.Warn(w, "container", res.Container.Name)
		}
		rep.Add(res)
	}
	if err := writeReport(g, &scanFlags{output: f.output}, func(w io.Writer) error {
		return drift.Write(w, f.format, rep)
	}); err != nil {
		return err
	}
	if len(rep.Findings) > 0 && f.exitCode != 0 {
		return &exitError{code: f.exitCode, err: fmt.Errorf("drift in %d findings", len(rep.Findings))}
	}
	if failed > 0 {
		return &exitError{ExitError, errors.New(plural(failed, "container") + " could not be checked")}
	}
	return nil
}
