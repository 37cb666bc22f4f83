// Package drift compares a container with the image it was started from:
// the files it added, changed or deleted (Docker's ContainerChanges, with
// each executable and library recognised from its bytes), the packages its
// package databases gained or lost, and the processes running a program
// that is not the image's (the "drop and execute" pattern).
//
// Only the paths the container touched or runs are read, on both sides.
// On the Docker host itself (overlay2), the container's files come from its
// upper directory and the image's from its layer directories, resolved with
// openat2 so that no symlink is followed; elsewhere (a remote engine,
// another storage driver, Options.APIOnly) the container's files come from
// CopyFromContainer and the image's from one ImageSave export walked once.
// Processes are read from the host's /proc. Every read is bounded.
package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// ErrContainerGone is returned when the container is removed while it is
// checked.
var ErrContainerGone = errContainerGone

// ErrNotFound is returned for a container the engine does not know.
var ErrNotFound = errors.New("not found")

// Kind of a drift finding. The strings are part of the JSON output.
type Kind string

const (
	KindAddedExecutable    Kind = "added-executable"
	KindModifiedExecutable Kind = "modified-executable"
	KindAddedLibrary       Kind = "added-library"
	KindModifiedLibrary    Kind = "modified-library"
	KindAdded              Kind = "added"    // a plain file added under a system directory
	KindModified           Kind = "modified" // a plain file changed under a system directory
	KindDeleted            Kind = "deleted"  // a file of the image deleted
	KindPackageInstalled   Kind = "package-installed"
	KindPackageRemoved     Kind = "package-removed"
	KindPackageChanged     Kind = "package-changed"
	KindExecNotInImage     Kind = "exec-not-in-image"
	KindExecModified       Kind = "exec-modified"
)

// ContainerRef names a container in findings.
type ContainerRef struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Finding is one way a container differs from its image.
type Finding struct {
	Container ContainerRef `json:"container"`
	Image     string       `json:"image"`
	Path      string       `json:"path"`
	Kind      Kind         `json:"kind"`
	Severity  string       `json:"severity"` // HIGH, MEDIUM, LOW
	Detail    Detail       `json:"detail"`
}

// Detail says how the container differs. Hashes are sha256 prefixes
// (16 hex digits); a hash over a file larger than Options.MaxRead covers
// its first MaxRead bytes and Truncated says so.
type Detail struct {
	Change     string `json:"change,omitempty"`   // A, C or D as docker diff prints it
	FileType   string `json:"fileType,omitempty"` // elf-executable, elf-library, script, elf, data, symlink
	OldSize    *int64 `json:"oldSize,omitempty"`
	NewSize    *int64 `json:"newSize,omitempty"`
	OldSHA256  string `json:"oldSha256,omitempty"`
	NewSHA256  string `json:"newSha256,omitempty"`
	OldMode    string `json:"oldMode,omitempty"`
	NewMode    string `json:"newMode,omitempty"`
	LinkTarget string `json:"linkTarget,omitempty"`
	Truncated  bool   `json:"truncated,omitempty"`

	Package     string `json:"package,omitempty"`
	PackageType string `json:"packageType,omitempty"`
	Arch        string `json:"arch,omitempty"`
	OldVersion  string `json:"oldVersion,omitempty"`
	NewVersion  string `json:"newVersion,omitempty"`

	PIDs       []int  `json:"pids,omitempty"`
	Cmdline    string `json:"cmdline,omitempty"` // of the first PID, secrets masked
	ExeDeleted bool   `json:"exeDeleted,omitempty"`

	Note string `json:"note,omitempty"`
}

// Result is the drift of one container.
type Result struct {
	Container ContainerRef `json:"container"`
	Image     string       `json:"image"`
	ImageID   string       `json:"imageID"`
	Running   bool         `json:"running"`
	// FilesFrom says how the container's files were read: "host" (its
	// overlay2 upper directory) or "api" (CopyFromContainer).
	FilesFrom string `json:"filesFrom"`
	// ImageFrom says how the image's files were read: "host" (its
	// overlay2 layer directories), "api" (ImageSave), or "" when no file
	// of the image was needed.
	ImageFrom string    `json:"imageFrom,omitempty"`
	Changes   int       `json:"changes"`   // entries of docker diff
	Processes int       `json:"processes"` // processes checked
	Findings  []Finding `json:"findings"`
	// Partial is set when part of the check could not be done; Warnings
	// say which.
	Partial  bool     `json:"partial,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func (r *Result) warnf(format string, args ...any) {
	r.Partial = true
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Client is the part of the Docker Engine API drift uses; *client.Client
// implements it.
type Client interface {
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerDiff(ctx context.Context, id string) ([]container.FilesystemChange, error)
	CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, container.PathStat, error)
	ImageSave(ctx context.Context, ids []string, opts ...client.ImageSaveOption) (io.ReadCloser, error)
}

var _ Client = (*client.Client)(nil)

// Options tune a drift check. The zero value is usable.
type Options struct {
	// ProcRoot is the host's /proc (default "/proc"): where the
	// container's processes are found and their programs read.
	ProcRoot string
	// MaxRead bounds the bytes read and hashed of any one file (default
	// 64 MiB); a larger file is compared on its size and first MaxRead
	// bytes.
	MaxRead int64
	// MaxDB bounds a package database read into memory (default 64 MiB).
	MaxDB int64
	// MaxChanges bounds the docker diff entries examined (default 100,000).
	MaxChanges int
	// Parallel is how many files are read from the container at once
	// (default 4).
	Parallel int
	// TempDir holds the image exports while a Detector lives (default
	// os.TempDir()).
	TempDir string
	// NoProcesses skips the process check.
	NoProcesses bool
	// APIOnly reads files only through the Engine API (CopyFromContainer,
	// ImageSave), never from overlay2 directories on this host (the fast
	// path, used when they are reachable).
	APIOnly bool
}

func (o Options) withDefaults() Options {
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.MaxRead <= 0 {
		o.MaxRead = 64 << 20
	}
	if o.MaxDB <= 0 {
		o.MaxDB = 64 << 20
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = 100_000
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	return o
}

// Detector checks containers; it keeps each image it exported for the
// containers of the same image. Close removes the exports.
type Detector struct {
	cli    Client
	opts   Options
	mu     sync.Mutex
	images map[string]*imageSpool
}

// New returns a Detector using cli.
func New(cli Client, opts Options) *Detector {
	return &Detector{cli: cli, opts: opts.withDefaults(), images: map[string]*imageSpool{}}
}

// Close removes the image exports.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first error
	for id, s := range d.images {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
		delete(d.images, id)
	}
	return first
}

// Detect checks one container, named by name, ID or ID prefix. It is
// Detector.Detect for a single container.
func Detect(ctx context.Context, cli Client, containerID string, opts Options) (*Result, error) {
	d := New(cli, opts)
	defer d.Close()
	return d.Detect(ctx, containerID)
}

// Detect checks one container. An error means no result at all (no such
// container, no engine, no image); what could only partly be checked is a
// Result with Partial set and Warnings.
func (d *Detector) Detect(ctx context.Context, containerID string) (*Result, error) {
	info, err := d.cli.ContainerInspect(ctx, containerID)
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil, fmt.Errorf("container %s: %w (docker ps lists the running ones)", containerID, ErrNotFound)
		}
		return nil, fmt.Errorf("inspect container %s: %w", containerID, err)
	}
	res := &Result{
		Container: ContainerRef{Name: strings.TrimPrefix(info.Name, "/"), ID: info.ID},
		ImageID:   info.Image,
		Findings:  []Finding{},
	}
	if info.Config != nil {
		res.Image = info.Config.Image
	}
	if res.Image == "" {
		res.Image = info.Image
	}
	if info.State != nil {
		res.Running = info.State.Running
	}

	changes, err := d.cli.ContainerDiff(ctx, info.ID)
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil, fmt.Errorf("container %s: %w", res.Container.Name, errContainerGone)
		}
		return nil, fmt.Errorf("docker diff %s: %w", res.Container.Name, err)
	}
	withInit := info.HostConfig != nil && info.HostConfig.Init != nil && *info.HostConfig.Init
	if withInit {
		// The mount point of docker's init is docker's, not drift.
		kept := changes[:0]
		for _, c := range changes {
			if !(c.Kind == container.ChangeAdd && initPaths[c.Path]) {
				kept = append(kept, c)
			}
		}
		changes = kept
	}
	res.Changes = len(changes)
	if len(changes) > d.opts.MaxChanges {
		res.warnf("%d changes; only the first %d examined", len(changes), d.opts.MaxChanges)
		changes = changes[:d.opts.MaxChanges]
	}

	// Processes first: they are the most volatile evidence.
	var procs []process
	if !d.opts.NoProcesses {
		switch {
		case !res.Running || info.State == nil || info.State.Pid <= 0:
			if len(changes) > 0 || res.Running {
				res.Warnings = append(res.Warnings, "container is not running: processes not checked")
			}
		default:
			var warns []string
			procs, warns = listProcesses(d.opts.ProcRoot, info.State.Pid, d.opts.MaxRead)
			for _, w := range warns {
				res.warnf("%s", w)
			}
			if withInit {
				procs = dropInit(procs)
			}
			res.Processes = len(procs)
		}
	}

	plan := planChanges(changes)
	want := plan.imagePaths()
	for _, p := range procs {
		want[p.exe] = true
	}
	var img *imageIndex
	if len(want) > 0 && !d.opts.APIOnly && info.GraphDriver.Name == "overlay2" && info.GraphDriver.Data["LowerDir"] != "" {
		// The image's layers on this host: no export needed. Anything
		// wrong with them and the export below is the answer.
		if l, err := openLowerDirs(info.GraphDriver.Data["LowerDir"]); err == nil {
			img, err = l.index(want, d.opts)
			l.close()
			if err == nil {
				res.ImageFrom = "host"
			}
		}
	}
	if len(want) > 0 && img == nil {
		res.ImageFrom = "api"
		spool, err := d.image(ctx, info.Image)
		if err != nil {
			return nil, err
		}
		img, err = spool.index(ctx, want, d.opts)
		if err != nil {
			return nil, fmt.Errorf("read image %s of container %s: %w", res.Image, res.Container.Name, err)
		}
		for _, w := range img.warnings {
			res.warnf("image: %s", w)
		}
	}

	read := func(ctx context.Context, p string, maxRead, keep int64) (*fileState, error) {
		return readContainerFile(ctx, d.cli, info.ID, p, maxRead, keep)
	}
	batch := func(ctx context.Context, dir string, fn func(string, *fileState)) error {
		return readContainerDir(ctx, d.cli, info.ID, dir, d.opts.MaxRead, fn)
	}
	res.FilesFrom = "api"
	if !d.opts.APIOnly && info.GraphDriver.Name == "overlay2" && info.GraphDriver.Data["UpperDir"] != "" {
		if h, err := openHostDir(info.GraphDriver.Data["UpperDir"]); err == nil {
			defer h.close()
			read = func(_ context.Context, p string, maxRead, keep int64) (*fileState, error) {
				return h.read(p, maxRead, keep)
			}
			batch = nil
			res.FilesFrom = "host"
		}
	}

	gone, err := d.checkFiles(ctx, res, plan, img, read, batch)
	if err != nil {
		return nil, err
	}
	gone += d.checkPackages(ctx, res, plan, img, read)
	if gone > 0 {
		// Paths vanish when the container changes them meanwhile, and all
		// of them when it is removed.
		if _, err := d.cli.ContainerInspect(ctx, info.ID); client.IsErrNotFound(err) {
			return nil, fmt.Errorf("container %s: %w", res.Container.Name, errContainerGone)
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d changed paths were gone when read (the container is still changing)", gone))
	}
	var mounts []string
	for _, m := range info.Mounts {
		mounts = append(mounts, m.Destination)
	}
	checkProcesses(res, procs, img, mounts)

	for i := range res.Findings {
		res.Findings[i].Container = res.Container
		res.Findings[i].Image = res.Image
	}
	SortFindings(res.Findings)
	return res, nil
}

// SortFindings orders findings worst first, then by kind and path.
func SortFindings(fs []Finding) {
	sortFindings(fs)
}

// severity levels used by drift.
const (
	high   = inventory.SeverityHigh
	medium = inventory.SeverityMedium
	low    = inventory.SeverityLow
)
