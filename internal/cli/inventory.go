package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/runtime"
	"github.com/bulkhead-sec/bulkhead/internal/siem"
	"github.com/bulkhead-sec/bulkhead/internal/store"
)

type inventoryFlags struct {
	changes    bool
	format     string
	output     string
	dockerHost string
	procRoot   string
	store      string
	noSave     bool
	noDocker   bool
	timeout    time.Duration
	syslog     string
}

func newInventoryCmd(g *globals) *cobra.Command {
	f := &inventoryFlags{}
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "List every container and image on this host, and what changed since last time",
		Long: `Lists the containers on this host from two sources at once:

  the Docker Engine API   every container in every state (image, digest,
                          command, user, labels incl. compose project and
                          Kubernetes pod, networks, published ports, mounts,
                          privileges) and every image;
  /proc                   containers of any runtime (Docker, containerd,
                          CRI-O, Podman, plain runc, LXC) from each process's
                          cgroup and mount table, with PIDs and root
                          filesystem.

A container found in /proc that the Docker API does not list is UNMANAGED:
started by hand with runc, ctr, podman or lxc. When a source cannot be read
(no daemon, a daemon that hangs or fails) the inventory is marked partial,
says why on stderr, and reports what the other source found.

Each run is stored as a snapshot (SQLite in the cache directory, or
PostgreSQL with --store postgres://...) and compared with the previous one
of this host: containers added, removed, or changed (image swapped, ports,
mounts, user, privileged, capabilities, namespaces).`,
		Example: `  bulkhead inventory
  bulkhead inventory --changes
  bulkhead inventory --format json -o inventory.json
  bulkhead inventory --docker-host tcp://10.0.0.5:2376     # TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH
  bulkhead inventory --proc-root /host/proc --no-save      # from inside a container
  bulkhead inventory --store postgres://bulkhead@db/bulkhead`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInventory(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.changes, "changes", false, "print only what changed since the previous snapshot")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: table|json|jsonl|syslog (jsonl and syslog: one SIEM event per change and per unmanaged container)")
	fl.StringVar(&f.syslog, "syslog", "", "also send the events as RFC 5424 syslog to udp://HOST:PORT or tcp://HOST:PORT")
	fl.StringVarP(&f.output, "output", "o", "", "write the inventory to FILE instead of stdout")
	fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine address (default $DOCKER_HOST, else unix:///var/run/docker.sock)")
	fl.StringVar(&f.procRoot, "proc-root", "/proc", "proc filesystem to read containers from")
	fl.StringVar(&f.store, "store", "", "snapshot store: a SQLite path or postgres://... (default <cache-dir>/inventory/inventory.db)")
	fl.BoolVar(&f.noSave, "no-save", false, "do not store this snapshot (changes are still computed against the last stored one)")
	fl.BoolVar(&f.noDocker, "no-docker", false, "do not ask the Docker Engine; /proc only")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up on a Docker API call after this long")
	return cmd
}

func runInventory(cmd *cobra.Command, g *globals, f *inventoryFlags) error {
	switch f.format {
	case "table", "json", "jsonl", "syslog":
	default:
		return &exitError{ExitError, fmt.Errorf("unknown --format %q: use table, json, jsonl or syslog", f.format)}
	}
	// A bad --syslog address fails before anything is looked at.
	var remote *siem.Syslog
	if f.syslog != "" {
		var err error
		if remote, err = siem.Dial(f.syslog); err != nil {
			return &exitError{ExitError, fmt.Errorf("%w; check the --syslog address", err)}
		}
		defer remote.Close()
	}
	ctx := cmd.Context()
	snap, err := runtime.Discover(ctx, runtime.Options{
		Docker:   runtime.DockerOptions{Host: f.dockerHost, Timeout: f.timeout},
		Proc:     runtime.ProcOptions{Root: f.procRoot},
		NoDocker: f.noDocker,
	})
	if err != nil {
		if errors.Is(err, runtime.ErrNothing) {
			err = fmt.Errorf("%w; start dockerd or pass --docker-host, and check --proc-root", err)
		}
		return &exitError{ExitError, err}
	}
	for _, w := range snap.Warnings {
		g.logger.Warn(w)
	}

	dsn := f.store
	if dsn == "" {
		dsn = store.DefaultPath(g.cacheDir)
	}
	changes := runtime.Diff(nil, nil)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		if !f.noSave {
			return &exitError{ExitError, fmt.Errorf("%w (pass --no-save to take an inventory without storing it)", err)}
		}
		g.logger.Warn("no previous snapshot to compare with", "error", err)
	} else {
		defer st.Close()
		prev, err := st.LatestSnapshots(ctx, snap.Host, 10)
		if err != nil {
			return &exitError{ExitError, err}
		}
		if base := runtime.Baseline(prev, snap); base != nil {
			changes = runtime.Diff(base, snap)
		}
		if !f.noSave {
			if _, err := st.SaveSnapshot(ctx, snap); err != nil {
				return &exitError{ExitError, fmt.Errorf("%w (pass --no-save to skip storing)", err)}
			}
		}
	}

	if remote != nil {
		if err := siem.EmitAll(remote, runtime.Events(snap, changes)); err != nil {
			return &exitError{ExitError, fmt.Errorf("--syslog: %w", err)}
		}
	}
	return writeReport(g, &scanFlags{output: f.output}, func(w io.Writer) error {
		switch {
		case f.format == "jsonl":
			return siem.EmitAll(siem.NewJSONL(w), runtime.Events(snap, changes))
		case f.format == "syslog":
			return siem.EmitAll(siem.NewSyslog(w), runtime.Events(snap, changes))
		case f.format == "json" && f.changes:
			return writeJSON(w, runtime.ChangesReport{Host: snap.Host, Time: snap.Time, Partial: snap.Partial, Warnings: snap.Warnings, Changes: changes})
		case f.format == "json":
			return writeJSON(w, runtime.Report{Snapshot: *snap, Changes: changes})
		case f.changes:
			return writeChangesTable(w, snap, changes)
		}
		return writeInventoryTable(w, snap, changes)
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// group names the group a container is listed under in the table.
func group(c runtime.Container) string {
	switch {
	case c.Unmanaged:
		return "unmanaged"
	case c.PodName != "":
		return "k8s:" + c.PodNamespace + "/" + c.PodName
	case c.ComposeProject != "":
		return "compose:" + c.ComposeProject
	}
	return "standalone"
}

// groupRank puts unmanaged containers first: they are what nobody knew of.
func groupRank(g string) int {
	switch {
	case g == "unmanaged":
		return 0
	case strings.HasPrefix(g, "k8s:"):
		return 1
	case strings.HasPrefix(g, "compose:"):
		return 2
	}
	return 3
}

func writeInventoryTable(w io.Writer, snap *runtime.Snapshot, ch runtime.Changes) error {
	writeHeader(w, snap)
	cs := append([]runtime.Container(nil), snap.Containers...)
	sort.SliceStable(cs, func(i, j int) bool {
		gi, gj := group(cs[i]), group(cs[j])
		if groupRank(gi) != groupRank(gj) {
			return groupRank(gi) < groupRank(gj)
		}
		return gi < gj
	})
	running, unmanaged := 0, 0
	for _, c := range cs {
		if c.State == "running" {
			running++
		}
		if c.Unmanaged {
			unmanaged++
		}
	}
	fmt.Fprintf(w, "\nCONTAINERS: %d (%d running, %d unmanaged)\n", len(cs), running, unmanaged)
	if len(cs) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tNAME\tID\tRUNTIME\tSTATE\tIMAGE\tPORTS\tPIDS")
		for _, c := range cs {
			name := c.Name
			if c.Unmanaged {
				name += " [UNMANAGED]"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", group(c), name, short(c.ID), c.Runtime, dash(c.State),
				dash(containerImage(c)), dash(portsOf(c.Ports)), dash(pidsOf(c.PIDs)))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nIMAGES: %d\n", len(snap.Images))
	if len(snap.Images) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTAGS\tSIZE\tCREATED\tCONTAINERS")
		for _, im := range snap.Images {
			created := "-"
			if !im.Created.IsZero() {
				created = im.Created.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", short(strings.TrimPrefix(im.ID, "sha256:")), dash(strings.Join(im.RepoTags, ",")),
				megabytes(im.Size), created, countOrDash(im.Containers))
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	return writeChanges(w, ch)
}

func writeChangesTable(w io.Writer, snap *runtime.Snapshot, ch runtime.Changes) error {
	writeHeader(w, snap)
	fmt.Fprintln(w)
	return writeChanges(w, ch)
}

func writeHeader(w io.Writer, snap *runtime.Snapshot) {
	fmt.Fprintf(w, "HOST %s  %s", snap.Host, snap.Time.Format("2006-01-02 15:04:05 MST"))
	if snap.Docker != nil {
		fmt.Fprintf(w, "  docker %s at %s", snap.Docker.Version, snap.Docker.Host)
	}
	if snap.Partial {
		fmt.Fprintf(w, "  PARTIAL (%s, see stderr)", plural(len(snap.Warnings), "warning"))
	}
	fmt.Fprintln(w)
}

func writeChanges(w io.Writer, ch runtime.Changes) error {
	if ch.Since.IsZero() {
		fmt.Fprintln(w, "CHANGES: none (no previous snapshot of this host)")
		return nil
	}
	fmt.Fprintf(w, "CHANGES since %s: %d added, %d removed, %d changed\n", ch.Since.Format("2006-01-02 15:04:05 MST"),
		len(ch.Added), len(ch.Removed), len(ch.Changed))
	for _, n := range ch.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, c := range ch.Added {
		fmt.Fprintf(w, "  + %s\n", refString(c))
	}
	for _, c := range ch.Removed {
		fmt.Fprintf(w, "  - %s\n", refString(c))
	}
	for _, c := range ch.Changed {
		fmt.Fprintf(w, "  ~ %s\n", refString(c.ContainerRef))
		if c.PreviousID != "" {
			fmt.Fprintf(w, "      recreated (was %s)\n", short(c.PreviousID))
		}
		for _, fc := range c.Fields {
			if fc.Field == "id" {
				continue
			}
			mark := ""
			if fc.Privilege {
				mark = " [privilege]"
			}
			var parts []string
			if fc.Before != "" || fc.After != "" {
				parts = append(parts, dash(fc.Before)+" -> "+dash(fc.After))
			}
			for _, a := range fc.Added {
				parts = append(parts, "+"+a)
			}
			for _, r := range fc.Removed {
				parts = append(parts, "-"+r)
			}
			fmt.Fprintf(w, "      %s: %s%s\n", fc.Field, strings.Join(parts, " "), mark)
		}
	}
	return nil
}

func refString(c runtime.ContainerRef) string {
	s := fmt.Sprintf("%s (%s, %s", c.Name, short(c.ID), c.Runtime)
	if c.Image != "" {
		s += ", " + c.Image
	}
	s += ")"
	if c.Unmanaged {
		s += " UNMANAGED"
	}
	return s
}

func containerImage(c runtime.Container) string {
	if c.Image != "" {
		return c.Image
	}
	if c.RootFS != nil && c.RootFS.Root != "" && c.RootFS.Root != "/" {
		return "rootfs " + c.RootFS.Root
	}
	return ""
}

func portsOf(ps []runtime.Port) string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		s := runtime.PortString(p)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

func pidsOf(p []int) string {
	const show = 3
	var out []string
	for i, pid := range p {
		if i == show {
			out = append(out, fmt.Sprintf("+%d", len(p)-show))
			break
		}
		out = append(out, strconv.Itoa(pid))
	}
	return strings.Join(out, ",")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func short(id string) string {
	if len(id) == 64 {
		return id[:12]
	}
	return id
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countOrDash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}
