package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// ImportOptions configure Import.
type ImportOptions struct {
	// Progress receives a line per source read and per 100,000 records;
	// nil for none.
	Progress io.Writer
	// Limits bound hostile input; zero fields take DefaultLimits.
	Limits Limits

	now func() time.Time // tests
}

// ImportStats report what an Import or Update did.
type ImportStats struct {
	Path      string `json:"path"`      // the DB
	Sources   int    `json:"sources"`   // zips and JSON files read
	Records   int    `json:"records"`   // valid OSV records read
	Added     int    `json:"added"`     // new advisories
	Updated   int    `json:"updated"`   // replaced by a newer (or same-date, different) version
	Unchanged int    `json:"unchanged"` // already stored as they are
	Older     int    `json:"older"`     // the DB has a newer version: kept
	Withdrawn int    `json:"withdrawn"` // valid records marked withdrawn (stored, never matched)
	Removed   int    `json:"removed"`   // Update: advisories osv.dev no longer exports
	// Skipped counts records left out (malformed, too large, unsupported
	// zip member); Warnings says why for the first 100 of them.
	Skipped  int      `json:"skipped"`
	Warnings []string `json:"warnings,omitempty"`
	// Ecosystems counts valid records per base ecosystem they name.
	Ecosystems map[string]int `json:"ecosystems"`
	BytesRead  int64          `json:"bytes_read"` // uncompressed OSV JSON
	Downloaded int64          `json:"downloaded"` // Update: bytes fetched
	// Note says why an existing DB was not carried over, if it was not.
	Note     string        `json:"note,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// maxWarnings is how many skip reasons ImportStats keeps.
const maxWarnings = 100

func (s *ImportStats) skip(where string, err error) {
	s.Skipped++
	if len(s.Warnings) < maxWarnings {
		s.Warnings = append(s.Warnings, where+": "+err.Error())
	}
}

// Import adds OSV records to the DB of cacheDir. Each path is an osv.dev
// export (all.zip), any zip of OSV JSON files, one OSV JSON file, or a
// directory searched recursively for *.json and *.zip files. Records
// already stored are replaced only by a newer "modified" (or the same date
// with different content), so importing twice changes nothing.
//
// Malformed records are skipped and counted. A damaged archive, a zip
// bomb, a path without any OSV record or a cancelled ctx fail the import;
// the DB is then exactly what it was.
func Import(ctx context.Context, cacheDir string, paths []string, opts ImportOptions) (*ImportStats, error) {
	start := time.Now()
	if len(paths) == 0 {
		return nil, errors.New("import: no paths given: name osv.dev all.zip files, zips or directories of OSV JSON")
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", p, err)
		}
		if _, err := os.Stat(a); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		abs[i] = a
	}
	now := time.Now
	if opts.now != nil {
		now = opts.now
	}
	b, err := newBuilder(ctx, cacheDir, now(), opts.Progress)
	if err != nil {
		return nil, err
	}
	st := &ImportStats{Path: b.final, Ecosystems: map[string]int{}, Note: b.note}
	imp := &importer{b: b, lim: opts.Limits.withDefaults(), stats: st, progress: opts.Progress}
	for _, p := range abs {
		records, skipped, warnings := st.Records, st.Skipped, len(st.Warnings)
		if err := imp.run(ctx, pathFeeder(p, imp.lim), "import", false); err != nil {
			b.abort()
			return nil, err
		}
		if st.Records == records {
			b.abort()
			msg := fmt.Sprintf("import %s: no OSV records found", p)
			if len(st.Warnings) > warnings {
				msg += fmt.Sprintf(" (%d skipped; first: %s)", st.Skipped-skipped, st.Warnings[warnings])
			}
			return nil, errors.New(msg + ": expected osv.dev all.zip files, zips or directories of OSV JSON")
		}
	}
	if err := imp.touchSources(ctx); err != nil {
		b.abort()
		return nil, err
	}
	if err := b.finish(ctx); err != nil {
		return nil, err
	}
	st.Duration = time.Since(start)
	return st, nil
}

// importer runs records from feeders into a builder.
type importer struct {
	b        *builder
	lim      Limits
	stats    *ImportStats
	progress io.Writer
	// sources maps each source label to the base ecosystems its records
	// named, for the ecosystems table.
	sources map[string]map[string]bool
	order   []string
}

// emitFunc receives one record (or a reason to skip one) from a feeder.
// where names it for warnings; source is the label recorded as the origin
// of the data (an archive, a directory, a URL).
type emitFunc func(source, where string, data []byte, skip error) error

// feeder reads a source and emits its records in order. Errors it returns
// fail the whole import.
type feeder func(ctx context.Context, emit emitFunc) error

// job is one record in the pipeline.
type job struct {
	source, where string
	data          []byte
	weight        int64
	rec           *record
	err           error
	done          chan struct{}
}

// run decodes the records of feed on all cores and stores them in order.
// markSeen records ids for removeUnseen.
func (imp *importer) run(ctx context.Context, feed feeder, origin string, markSeen bool) error {
	c, err := getCodec()
	if err != nil {
		return err
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	budget := max(64<<20, imp.lim.MaxRecordBytes+1)
	sem := semaphore.NewWeighted(budget)
	ordered := make(chan *job, 4*workers)
	work := make(chan *job, 4*workers)
	g, gctx := errgroup.WithContext(ctx)

	g.Go(func() error {
		defer close(ordered)
		defer close(work)
		return feed(gctx, func(source, where string, data []byte, skip error) error {
			j := &job{source: source, where: where, data: data, err: skip, done: make(chan struct{}), weight: int64(len(data)) + 1}
			if err := sem.Acquire(gctx, j.weight); err != nil {
				return err
			}
			select {
			case ordered <- j:
			case <-gctx.Done():
				return gctx.Err()
			}
			if skip != nil {
				close(j.done)
				return nil
			}
			select {
			case work <- j:
			case <-gctx.Done():
				return gctx.Err()
			}
			return nil
		})
	})
	for range workers {
		g.Go(func() error {
			for j := range work {
				j.rec, j.err = decodeRecord(j.data, imp.lim, c)
				j.data = nil
				close(j.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for j := range ordered {
			select {
			case <-j.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			sem.Release(j.weight)
			if err := imp.store(gctx, j, origin, markSeen); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted, the vulnerability database is unchanged: %w", ctx.Err())
		}
		return err
	}
	return nil
}

func (imp *importer) store(ctx context.Context, j *job, origin string, markSeen bool) error {
	st := imp.stats
	if imp.sources == nil {
		imp.sources = map[string]map[string]bool{}
	}
	bases := imp.sources[j.source]
	if bases == nil {
		bases = map[string]bool{}
		imp.sources[j.source] = bases
		imp.order = append(imp.order, j.source)
		st.Sources++
		if imp.progress != nil {
			fmt.Fprintf(imp.progress, "  reading %s\n", j.source)
		}
	}
	st.BytesRead += j.weight - 1
	if j.err != nil {
		st.skip(j.where, j.err)
		return nil
	}
	r := j.rec
	st.Records++
	if r.withdrawn != nil {
		st.Withdrawn++
	}
	for _, e := range r.bases {
		st.Ecosystems[e]++
		bases[e] = true
	}
	res, err := imp.b.put(ctx, r, origin, markSeen)
	if err != nil {
		return err
	}
	switch res {
	case added:
		st.Added++
	case updated:
		st.Updated++
	case unchanged:
		st.Unchanged++
	case older:
		st.Older++
	}
	if imp.progress != nil && st.Records%100_000 == 0 {
		fmt.Fprintf(imp.progress, "  %d records\n", st.Records)
	}
	return nil
}

// touchSources records, per base ecosystem, the source its data came from.
// An osv.dev export (<Ecosystem>/all.zip) counts as the source of its own
// ecosystem only, not of others its advisories mention in passing.
func (imp *importer) touchSources(ctx context.Context) error {
	for _, src := range imp.order {
		var bases []string
		if eco := filepath.Base(filepath.Dir(src)); filepath.Base(src) == "all.zip" && imp.sources[src][eco] {
			bases = []string{eco}
		} else {
			for e := range imp.sources[src] {
				bases = append(bases, e)
			}
			slices.Sort(bases)
		}
		for _, e := range bases {
			if err := imp.b.touch(ctx, e, src); err != nil {
				return err
			}
		}
	}
	return nil
}

// pathFeeder reads a zip, a JSON file or a directory of them.
func pathFeeder(path string, lim Limits) feeder {
	return func(ctx context.Context, emit emitFunc) error {
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if !fi.IsDir() {
			if isJSONName(path) {
				return feedJSONFile(path, path, fi, lim, emit)
			}
			// Anything else must be a zip; openZip says clearly if not.
			return feedZip(ctx, path, path, lim, emit)
		}
		var files []string
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(isJSONName(p) || strings.EqualFold(filepath.Ext(p), ".zip")) {
				return nil
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
		records := 0
		for _, p := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			fi, err := os.Stat(p) // follows a symlink
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			if isJSONName(p) {
				if records++; records > lim.MaxRecords {
					return fmt.Errorf("import %s: more than %d records", path, lim.MaxRecords)
				}
				if err := feedJSONFile(path, p, fi, lim, emit); err != nil {
					return err
				}
				continue
			}
			if err := feedZip(ctx, p, p, lim, emit); err != nil {
				return err
			}
		}
		return nil
	}
}

// feedJSONFile emits one OSV JSON file.
func feedJSONFile(source, path string, fi fs.FileInfo, lim Limits, emit emitFunc) error {
	if fi.Size() > lim.MaxRecordBytes {
		return emit(source, path, nil, fmt.Errorf("%w: %d bytes (limit %d)", errTooLarge, fi.Size(), lim.MaxRecordBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return emit(source, path, data, nil)
}

// feedZip emits the *.json members of the zip at path. A damaged archive
// or one inflating past the limits fails; a member that cannot be read is
// skipped.
func feedZip(ctx context.Context, source, path string, lim Limits, emit emitFunc) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	z, err := openZip(f, fi.Size())
	if err == nil {
		err = walkZip(ctx, z, source, path, fi.Size(), lim, emit)
	}
	if errors.Is(err, errCorrupt) {
		return fmt.Errorf("import %s: %w: copy or download it again", path, err)
	}
	return err
}

// walkZip emits the records of an opened zip; label names it in warnings
// and limit errors. Errors wrapping errCorrupt are returned as they are.
func walkZip(ctx context.Context, z *zipArchive, source, label string, size int64, lim Limits, emit emitFunc) error {
	capBytes := min(lim.MaxArchiveBytes, lim.MaxRatio*size+lim.MaxRecordBytes)
	var total int64
	records := 0
	var inflater io.ReadCloser
	err := z.walk(func(m *zipMember) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.isDir() || !isJSONName(m.Name) {
			return nil
		}
		where := label + ":" + m.Name
		if records++; records > lim.MaxRecords {
			return fmt.Errorf("%s: more than %d records", label, lim.MaxRecords)
		}
		if m.USize > uint64(lim.MaxRecordBytes) {
			return emit(source, where, nil, fmt.Errorf("%w: %d bytes (limit %d)", errTooLarge, m.USize, lim.MaxRecordBytes))
		}
		// The reader stops a member at its declared size, so the sum of
		// declared sizes bounds the work before any of it is done.
		if total += int64(m.USize); total > capBytes {
			return fmt.Errorf("%s: more than %d bytes uncompressed from a %d-byte zip: "+
				"not an OSV export (a zip bomb?)", label, capBytes, size)
		}
		data, err := z.readMember(m, lim.MaxRecordBytes, nil, &inflater)
		switch {
		case errors.Is(err, errUnsupported), errors.Is(err, errTooLarge):
			return emit(source, where, nil, err)
		case err != nil:
			return err
		}
		return emit(source, where, data, nil)
	})
	return err
}
