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
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/drift"
	"github.com/bulkhead-sec/bulkhead/internal/respond"
	"github.com/bulkhead-sec/bulkhead/internal/siem"
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
	syslog      string
	respond     string
	forKinds    []string
	yes         bool
	allow       []string
	only        []string
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

--respond stop|pause acts on the running containers with a finding named by
--for (a kind such as exec-not-in-image, a severity meaning that or worse,
or ANY). It is a dry run unless --yes is given: the plan is printed on
stderr and nothing is touched. Containers matched by --respond-allow, or
labelled bulkhead.respond=never, are never touched.

Exit codes: 0 done, 1 (with --exit-code 1) drift found, 2 error.`,
		Example: `  bulkhead drift
  bulkhead drift web-1 3f2a --format json
  bulkhead drift --format jsonl --exit-code 1
  bulkhead drift --respond pause --for exec-not-in-image --respond-allow label=env=prod --yes`,
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
	fl.StringVar(&f.syslog, "syslog", "", "also send every finding as RFC 5424 syslog to udp://HOST:PORT or tcp://HOST:PORT")
	fl.StringVar(&f.respond, "respond", "", "stop or pause running containers with a finding named by --for (dry run unless --yes)")
	fl.StringSliceVar(&f.forKinds, "for", nil, "with --respond (required): finding kinds (exec-not-in-image, ...), a severity (that or worse), or ANY")
	fl.BoolVar(&f.yes, "yes", false, "with --respond: really stop or pause (default is a dry run)")
	fl.StringSliceVar(&f.allow, "respond-allow", nil, "never respond to containers matching name=GLOB, label=KEY or label=KEY=VALUE (repeatable)")
	fl.StringSliceVar(&f.only, "respond-only", nil, "respond only to containers matching name=GLOB, label=KEY or label=KEY=VALUE (repeatable)")
	return cmd
}

// driftResponder checks the --respond flags before anything is looked at.
func driftResponder(g *globals, f *driftFlags) (*respond.Responder, error) {
	if f.respond == "" {
		if len(f.forKinds) > 0 || f.yes {
			return nil, errors.New("--for and --yes go with --respond stop|pause")
		}
		return nil, nil
	}
	mode, err := respond.ParseMode(f.respond)
	if err != nil {
		return nil, err
	}
	if len(f.forKinds) == 0 {
		return nil, errors.New("--respond needs --for: the finding kinds (--for exec-not-in-image,added-executable), a severity (--for HIGH) or --for ANY")
	}
	for _, k := range f.forKinds {
		if !drift.ValidTrigger(k) {
			kinds := make([]string, len(drift.Kinds))
			for i, k := range drift.Kinds {
				kinds[i] = string(k)
			}
			return nil, fmt.Errorf("--for %q: not a finding kind (%s), a severity or ANY", k, strings.Join(kinds, ", "))
		}
	}
	allow, err := respond.ParseRules(f.allow)
	if err != nil {
		return nil, err
	}
	only, err := respond.ParseRules(f.only)
	if err != nil {
		return nil, err
	}
	return &respond.Responder{Mode: mode, Allow: allow, Only: only, DryRun: !f.yes, Logger: g.logger, Host: siem.Hostname()}, nil
}

// respondToDrift plans and (unless a dry run) takes the responses, after
// filling in what the allow-list needs: each candidate's state and labels.
func respondToDrift(ctx context.Context, g *globals, cli *client.Client, r *respond.Responder, rep *drift.Report, triggers []string) error {
	cands := rep.Candidates(triggers)
	for i := range cands {
		info, err := cli.ContainerInspect(ctx, cands[i].ID)
		if err != nil {
			cands[i].State = "gone"
			continue
		}
		if info.State != nil {
			cands[i].State = info.State.Status
		}
		if info.Config != nil {
			cands[i].Labels = info.Config.Labels
		}
	}
	r.Engine = cli
	var err error
	rep.Responses, err = r.Execute(ctx, r.Plan(cands))
	for _, a := range rep.Responses {
		fmt.Fprintln(g.stderr, "respond: "+a.Describe())
	}
	switch {
	case len(rep.Responses) == 0:
		fmt.Fprintln(g.stderr, "respond: no container has drift of "+strings.Join(triggers, ","))
	case r.DryRun:
		fmt.Fprintln(g.stderr, "respond: dry run, nothing was changed; add --yes to act")
	}
	return err
}

func runDrift(ctx context.Context, g *globals, f *driftFlags, args []string) error {
	if !slices.Contains(drift.Formats, f.format) {
		return &exitError{ExitError, fmt.Errorf("unknown --format %q (use %s)", f.format, strings.Join(drift.Formats, "|"))}
	}
	responder, err := driftResponder(g, f)
	if err != nil {
		return &exitError{ExitError, err}
	}
	// A bad --syslog address fails before anything is looked at.
	var remote *siem.Syslog
	if f.syslog != "" {
		if remote, err = siem.Dial(f.syslog); err != nil {
			return &exitError{ExitError, fmt.Errorf("%w; check the --syslog address", err)}
		}
		defer remote.Close()
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
	rep := &drift.Report{Host: siem.Hostname(), Time: time.Now().UTC()}
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
	// Respond before writing, so the report carries what was done.
	var respondErr error
	if responder != nil {
		respondErr = respondToDrift(ctx, g, cli, responder, rep, f.forKinds)
	}
	if err := writeReport(g, &scanFlags{output: f.output}, func(w io.Writer) error {
		return drift.Write(w, f.format, rep)
	}); err != nil {
		return err
	}
	if remote != nil {
		if err := siem.EmitAll(remote, drift.Events(rep)); err != nil {
			return &exitError{ExitError, fmt.Errorf("--syslog: %w", err)}
		}
	}
	if respondErr != nil {
		return &exitError{ExitError, fmt.Errorf("respond: %w", respondErr)}
	}
	if len(rep.Findings) > 0 && f.exitCode != 0 {
		return &exitError{code: f.exitCode, err: fmt.Errorf("drift in %d findings", len(rep.Findings))}
	}
	if failed > 0 {
		return &exitError{ExitError, errors.New(plural(failed, "container") + " could not be checked")}
	}
	return nil
}
