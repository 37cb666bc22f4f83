// Package scan is the single orchestration entry point: the CLI, the agent
// and the server all call Run, none re-implements it. Run reads every layer
// of an image once (in parallel, bounded), reuses cached layer results,
// merges the layers and returns the inventory.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/list"
	secreta "github.com/bulkhead-sec/bulkhead/internal/analyzer/secret"
	"github.com/bulkhead-sec/bulkhead/internal/cache"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/match"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/image"
	"github.com/bulkhead-sec/bulkhead/internal/progress"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/squash"
)

// Options tune a scan.
type Options struct {
	Analyzers   *analyzer.Group // nil: list.Default(Mode)
	Mode        list.Mode       // Image (installed software) or SourceTree (also lockfiles)
	CacheDir    string          // "" disables the layer cache
	NoCache     bool            // neither read nor write the layer cache
	Parallel    int             // layers read at once; 0: number of CPUs
	MaxFileSize int64           // per analyzed file; 0: analyzer.DefaultMaxFileSize
	Progress    *progress.Bar
	Logger      *slog.Logger
	// Vulns is the advisory source; when set, packages are matched
	// against it and Inventory.Vulnerabilities is filled (possibly empty).
	Vulns match.Source
	// Misconfig turns on misconfiguration checks: Dockerfiles, Kubernetes
	// and Compose files in source trees; the config, history and file
	// facts of images.
	Misconfig bool
	// MisconfigOptions: skipped checks, maximum image age.
	MisconfigOptions image.Options
	// Secrets is the secret analyzer when secrets are scanned for: every
	// file of every layer, and the image config and history.
	Secrets *secreta.Analyzer
	// Malware is the malware analyzer when malware is scanned for.
	Malware analyzer.Analyzer
}

// Stats describe the work a scan did.
type Stats struct {
	Layers       int
	LayersCached int
	BytesRead    int64 // uncompressed tar bytes walked
	Files        int   // regular files seen in walked layers
	Duration     time.Duration
}

// Result is the outcome of a scan.
type Result struct {
	Inventory  inventory.Inventory
	Deleted    []squash.Deleted
	Stats      Stats
	misconfigs []misconfig.Finding // file findings before image checks
}

// Run scans target.
func Run(ctx context.Context, target *source.Target, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Analyzers == nil {
		sc := list.Scanners{Misconfig: opts.Misconfig, MisconfigOptions: opts.MisconfigOptions.Options}
		if opts.Secrets != nil {
			sc.Secret = opts.Secrets
		}
		sc.Malware = opts.Malware
		g, err := list.For(opts.Mode, sc)
		if err != nil {
			return nil, err
		}
		opts.Analyzers = g
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tempDir, cleanup, err := makeTempDir(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	fa := &fileAnalyzer{group: opts.Analyzers, tempDir: tempDir, maxSize: opts.MaxFileSize}

	var res *Result
	switch {
	case target.Image != nil:
		res, err = runImage(ctx, target.Image, fa, opts)
	case target.Dir != "":
		res, err = runDir(ctx, target, fa)
	case target.Inventory != nil:
		res = &Result{Inventory: *target.Inventory}
	default:
		return nil, errors.New("nothing to scan")
	}
	if err != nil {
		return nil, err
	}
	if opts.Malware != nil && res.Inventory.Malware == nil {
		res.Inventory.Malware = []inventory.Malware{}
	}
	if opts.Secrets != nil {
		if res.Inventory.Secrets == nil {
			res.Inventory.Secrets = []inventory.Secret{}
		}
		if target.Image != nil && target.Image.Config != nil {
			for _, s := range opts.Secrets.ScanImageConfig(ctx, target.Image.Config) {
				if s.LayerIndex >= 0 && s.LayerIndex < len(res.Inventory.Artifact.Layers) {
					s.LayerDiffID = res.Inventory.Artifact.Layers[s.LayerIndex].DiffID
				}
				res.Inventory.Secrets = append(res.Inventory.Secrets, s)
			}
		}
	}
	if opts.Misconfig {
		var cfg *v1.ConfigFile
		if target.Image != nil {
			cfg = target.Image.Config
		}
		if cfg != nil {
			res.Inventory.Misconfigurations = image.Check(cfg, res.misconfigs, opts.MisconfigOptions)
		} else {
			res.Inventory.Misconfigurations = misconfig.Filter(res.misconfigs, nil, opts.MisconfigOptions.Options)
		}
		if res.Inventory.Misconfigurations == nil {
			res.Inventory.Misconfigurations = []misconfig.Finding{}
		}
	}
	if opts.Vulns != nil {
		mr, err := match.Match(ctx, opts.Vulns, &res.Inventory)
		if err != nil {
			return nil, fmt.Errorf("match vulnerabilities: %w", err)
		}
		res.Inventory.Vulnerabilities = mr.Vulnerabilities
		res.Inventory.Warnings = append(res.Inventory.Warnings, mr.Warnings...)
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}

func makeTempDir(cacheDir string) (string, func(), error) {
	base := os.TempDir()
	if cacheDir != "" {
		base = filepath.Join(cacheDir, "tmp")
		if err := os.MkdirAll(base, 0o700); err != nil {
			return "", nil, fmt.Errorf("create cache dir: %w", err)
		}
	}
	d, err := os.MkdirTemp(base, "scan-*")
	if err != nil {
		return "", nil, fmt.Errorf("create temp dir: %w", err)
	}
	return d, func() { os.RemoveAll(d) }, nil
}

func runImage(ctx context.Context, img *source.Image, fa *fileAnalyzer, opts Options) (*Result, error) {
	layers := make([]inventory.Layer, len(img.Layers))
	var total int64
	redactor := opts.Secrets
	if redactor == nil {
		redactor = secreta.Default()
	}
	for i, l := range img.Layers {
		// History lines can hold build secrets (ARG/ENV values, curl -u):
		// they are masked before anything reports them.
		layers[i] = inventory.Layer{Index: i, DiffID: l.DiffID, Digest: l.Digest, Size: l.Size, MediaType: l.MediaType,
			CreatedBy: redactor.RedactHistory(ctx, i, l.CreatedBy)}
		total += l.Size
	}
	var lc *cache.Layers
	if opts.CacheDir != "" && !opts.NoCache {
		lc = cache.Open(opts.CacheDir)
	}
	versions := fa.group.Versions()
	results := make([]*squash.LayerResult, len(img.Layers))
	var cached, files atomic.Int64
	var bytesRead atomic.Int64

	opts.Progress.Start("reading "+img.Name, len(img.Layers), total)
	defer opts.Progress.Finish()

	g, gctx := errgroup.WithContext(ctx)
	par := opts.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	g.SetLimit(par)
	for i, l := range img.Layers {
		g.Go(func() error {
			key := cache.Key(l.DiffID, versions)
			if lc != nil && l.DiffID != "" {
				if lr, err := lc.Get(key); err != nil {
					opts.Logger.Warn("layer cache", "err", err)
				} else if lr != nil {
					results[i] = lr
					cached.Add(1)
					opts.Progress.AddBytes(l.Size)
					opts.Progress.LayerDone()
					return nil
				}
			}
			open := func() (io.ReadCloser, error) {
				rc, err := l.Open(gctx)
				if err != nil {
					return nil, err
				}
				return readCloser{opts.Progress.Reader(rc), rc}, nil
			}
			lr, _, err := fa.analyzeLayer(gctx, open)
			if err != nil {
				return fmt.Errorf("read layer %d (%s): %w", i, l.DiffID, err)
			}
			verified := l.DiffID == "" || lr.DiffID == l.DiffID
			if !verified && lr.DiffID != "" {
				lr.Warnings = append(lr.Warnings, fmt.Sprintf("layer content hashes to %s, not to the diffID %s the image config names; not cached", lr.DiffID, l.DiffID))
			}
			results[i] = lr
			files.Add(int64(lr.FileCount))
			bytesRead.Add(lr.Bytes)
			opts.Progress.LayerDone()
			if lc != nil && verified && lr.DiffID != "" {
				if err := lc.Put(key, lr); err != nil {
					opts.Logger.Warn("layer cache", "err", err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := squash.Apply(layers, results)
	inv := out.Inventory
	inv.Artifact = inventory.Artifact{
		Ref:            img.Ref,
		Type:           inventory.ArtifactImage,
		Transport:      img.Transport,
		Name:           img.Name,
		RepoTags:       img.RepoTags,
		RepoDigests:    img.RepoDigests,
		ManifestDigest: img.ManifestDigest,
		ConfigDigest:   img.ConfigDigest,
		Layers:         layers,
		Annotations:    inventory.OCIKeys(img.Annotations),
	}
	if inv.Artifact.Name == "" {
		inv.Artifact.Name = img.Ref
	}
	if img.Config != nil {
		inv.Artifact.Architecture = img.Config.Architecture
		inv.Artifact.Labels = inventory.OCIKeys(img.Config.Config.Labels)
		inv.Artifact.LabelKeys = slices.Sorted(maps.Keys(img.Config.Config.Labels))
		inv.Artifact.User = img.Config.Config.User
		if !img.Config.Created.IsZero() {
			inv.Artifact.Created = img.Config.Created.UTC().Format(time.RFC3339)
		}
	}
	for i, lr := range results {
		for _, w := range lr.Warnings {
			inv.Warnings = append(inv.Warnings, inventory.Warning{Layer: layers[i].DiffID, Message: w})
		}
	}
	return &Result{
		Inventory:  inv,
		Deleted:    out.Deleted,
		misconfigs: out.Misconfigs,
		Stats: Stats{Layers: len(layers), LayersCached: int(cached.Load()), BytesRead: bytesRead.Load(),
			Files: int(files.Load())},
	}, nil
}

func runDir(ctx context.Context, target *source.Target, fa *fileAnalyzer) (*Result, error) {
	lr, err := fa.analyzeDir(ctx, target.Dir)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", target.Dir, err)
	}
	out := squash.Apply(nil, []*squash.LayerResult{lr})
	inv := out.Inventory
	for i := range inv.Packages {
		for j := range inv.Packages[i].Locations {
			inv.Packages[i].Locations[j].LayerIndex = inventory.NoLayer
		}
	}
	if inv.OS != nil {
		inv.OS.Location.LayerIndex = inventory.NoLayer
	}
	inv.Artifact = inventory.Artifact{Ref: target.Ref, Type: inventory.ArtifactFilesystem, Name: target.Dir}
	for _, w := range lr.Warnings {
		inv.Warnings = append(inv.Warnings, inventory.Warning{Message: w})
	}
	return &Result{Inventory: inv, Stats: Stats{Files: lr.FileCount, BytesRead: lr.Bytes}, misconfigs: out.Misconfigs}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
