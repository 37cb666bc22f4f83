package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options configures Discover.
type Options struct {
	Docker DockerOptions
	Proc   ProcOptions
	// NoDocker and NoProc turn a source off.
	NoDocker, NoProc bool
	// Host names the snapshot; default os.Hostname().
	Host string
}

// ErrNothing is returned when no source could be read at all.
var ErrNothing = errors.New("no inventory source could be read")

// Discover takes an inventory of the host: Docker Engine containers and
// images, and containers of any runtime from /proc. A source that fails
// makes the snapshot partial with a warning saying why; only when every
// enabled source fails is an error returned (wrapping ErrNothing).
func Discover(ctx context.Context, opts Options) (*Snapshot, error) {
	snap := &Snapshot{Host: opts.Host, Time: time.Now().UTC().Truncate(time.Microsecond), Warnings: []string{}, Containers: []Container{}, Images: []Image{}}
	if snap.Host == "" {
		snap.Host = hostName(opts.Proc.Root)
	}
	var (
		dres         *DockerResult
		pres         *ProcResult
		derr, perr   error
		dockerTried  = !opts.NoDocker
		procTried    = !opts.NoProc
		dockerFailed bool
	)
	// The two sources are independent; read them at the same time so a
	// slow daemon does not delay the /proc scan.
	done := make(chan struct{})
	if dockerTried {
		go func() {
			defer close(done)
			dres, derr = ScanDocker(ctx, opts.Docker)
		}()
	} else {
		close(done)
	}
	if procTried {
		pres, perr = ScanProc(ctx, opts.Proc)
	}
	<-done
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if dockerTried {
		if derr != nil {
			dockerFailed = true
			snap.Partial = true
			snap.Warnings = append(snap.Warnings, derr.Error()+"; Docker containers and images are missing from this inventory")
		} else {
			e := dres.Engine
			snap.Docker = &e
			snap.Warnings = append(snap.Warnings, dres.Warnings...)
			snap.Partial = snap.Partial || dres.Partial
			snap.Containers = append(snap.Containers, dres.Containers...)
			snap.Images = append(snap.Images, dres.Images...)
		}
	}
	if procTried {
		if perr != nil {
			snap.Partial = true
			snap.Warnings = append(snap.Warnings, perr.Error()+"; containers of other runtimes are missing from this inventory")
		} else {
			st := pres.Stats
			snap.Proc = &st
			snap.Warnings = append(snap.Warnings, pres.Warnings...)
			if st.Unreadable > 0 {
				snap.Partial = true
			}
			mergeProc(snap, pres.Containers, dockerTried && !dockerFailed)
		}
	}
	if (!dockerTried || derr != nil) && (!procTried || perr != nil) {
		return nil, fmt.Errorf("%w: %v", ErrNothing, errors.Join(derr, perr))
	}
	sort.Slice(snap.Containers, func(i, j int) bool {
		a, b := snap.Containers[i], snap.Containers[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return snap, nil
}

// hostName names the host whose /proc is read: its kernel hostname when a
// foreign proc root is given (a host's /proc mounted into a container),
// else ours.
func hostName(procRoot string) string {
	if procRoot != "" && filepath.Clean(procRoot) != "/proc" {
		if b, err := readLimited(filepath.Join(procRoot, "sys", "kernel", "hostname"), 256); err == nil {
			if h := strings.TrimSpace(b); h != "" && len(h) <= 255 {
				return h
			}
		}
	}
	h, _ := os.Hostname()
	return h
}

// mergeProc adds /proc containers to snap: a container the API listed gets
// its PIDs and root filesystem; any other is unmanaged. apiAnswered says
// whether the API's silence about a container means anything: when it did
// not answer, Docker containers found in /proc are not called unmanaged.
func mergeProc(snap *Snapshot, procs []Container, apiAnswered bool) {
	byID := make(map[string]int, len(snap.Containers))
	for i, c := range snap.Containers {
		byID[c.ID] = i
	}
	for _, p := range procs {
		if i, ok := byID[p.ID]; ok {
			c := &snap.Containers[i]
			c.PIDs = p.PIDs
			c.RootFS = p.RootFS
			c.Sources = append(c.Sources, SourceProc)
			continue
		}
		p.Unmanaged = apiAnswered || p.Runtime != RuntimeDocker
		snap.Containers = append(snap.Containers, p)
	}
}
