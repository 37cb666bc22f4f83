package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/progress"
	"github.com/bulkhead-sec/bulkhead/internal/report"
	"github.com/bulkhead-sec/bulkhead/internal/scan"
	"github.com/bulkhead-sec/bulkhead/internal/source"
)

// scanFlags are shared by scan image, scan fs and sbom.
type scanFlags struct {
	format           string
	output           string
	noCache          bool
	platform         string
	insecureRegistry []string
	dockerHost       string
	parallel         int
}

func (f *scanFlags) register(cmd *cobra.Command, defaultFormat string, image bool) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", defaultFormat, "output format: "+strings.Join(report.Formats(), "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to FILE instead of stdout")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the layer cache")
	fl.IntVar(&f.parallel, "parallel", 0, "layers read at once (default: number of CPUs)")
	if image {
		fl.StringVar(&f.platform, "platform", "", "platform of a multi-arch image, os/arch[/variant] (default linux/<host arch>)")
		fl.StringSliceVar(&f.insecureRegistry, "insecure-registry", nil, "registry host[:port] to reach over plain HTTP (repeatable)")
		fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine address for docker: references (default DOCKER_HOST)")
	}
}

func newScanCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan an image or a filesystem",
	}
	var imgFlags, fsFlags scanFlags
	image := &cobra.Command{
		Use:   "image REF",
		Short: "Scan a container image",
		Example: `  bulkhead scan image docker-archive:app.tar
  bulkhead scan image oci-layout:./layout:1.0 --format json -o report.json
  bulkhead scan image registry.example:5000/app:1.2 --platform linux/arm64`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &imgFlags, args[0])
		},
	}
	imgFlags.register(image, "table", true)
	fs := &cobra.Command{
		Use:     "fs PATH",
		Short:   "Scan a directory (a root filesystem or a source tree)",
		Example: `  bulkhead scan fs ./rootfs`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &fsFlags, source.Dir+":"+args[0])
		},
	}
	fsFlags.register(fs, "table", false)
	cmd.AddCommand(image, fs)
	return cmd
}

func newSBOMCmd(g *globals) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON)",
		Example: `  bulkhead sbom docker-archive:app.tar > app.cdx.json
  bulkhead sbom oci-layout:./layout --format spdx-json -o app.spdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &f, args[0])
		},
	}
	f.register(cmd, "cyclonedx-json", true)
	return cmd
}

func runScan(ctx context.Context, g *globals, f *scanFlags, ref string) error {
	if _, err := report.ParseFormat(f.format); err != nil {
		return &exitError{ExitError, err}
	}
	target, err := source.Open(ctx, ref, source.Options{
		Platform:         f.platform,
		InsecureRegistry: f.insecureRegistry,
		DockerHost:       f.dockerHost,
		TempDir:          filepath.Join(g.cacheDir, "tmp"),
	})
	if err != nil {
		return &exitError{ExitError, err}
	}
	if target.Image != nil {
		defer target.Image.Close()
	}
	res, err := scan.Run(ctx, target, scan.Options{
		CacheDir: g.cacheDir,
		NoCache:  f.noCache,
		Parallel: f.parallel,
		Progress: progress.New(g.stderr, g.quiet),
		Logger:   g.logger,
	})
	if err != nil {
		return &exitError{ExitError, err}
	}
	g.logger.Debug("scan done", "layers", res.Stats.Layers, "cached", res.Stats.LayersCached,
		"bytes", res.Stats.BytesRead, "files", res.Stats.Files, "duration", res.Stats.Duration)
	if !g.quiet {
		for _, w := range res.Inventory.Warnings {
			g.logger.Warn(w.String())
		}
	}
	return writeReport(g, f, func(w io.Writer) error {
		return report.Write(w, f.format, &res.Inventory, report.Options{ToolVersion: Version})
	})
}

// writeReport writes to --output (atomically) or stdout.
func writeReport(g *globals, f *scanFlags, write func(io.Writer) error) error {
	if f.output == "" || f.output == "-" {
		if err := write(g.stdout); err != nil {
			return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
		}
		return nil
	}
	dir := filepath.Dir(f.output)
	tmp, err := os.CreateTemp(dir, ".bulkhead-report-*")
	if err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	if err := os.Rename(tmp.Name(), f.output); err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	return nil
}
