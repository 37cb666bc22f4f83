package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/basecheck"
	"github.com/bulkhead-sec/bulkhead/internal/source"
)

// newPolicyBaselineCmd is `bulkhead policy baseline`: record approved base
// images by their layer digests, read from the image config only (no layer
// is read or scanned).
func newPolicyBaselineCmd(g *globals) *cobra.Command {
	var (
		name, output, platform, dockerHost string
		appendTo                           bool
		insecure                           []string
	)
	cmd := &cobra.Command{
		Use:   "baseline REF [REF...]",
		Short: "Record approved base images by their layer digests",
		Long: `Record approved base images by their layer digests, for the policy's
approved-base check: an image is on an approved base when its bottom layers
are exactly one recorded base's layers.

Only the image's manifest and config are read (a docker: image is inspected,
not exported). REF is any image reference scan image takes. Each base is
named by --name (one REF only), else by the image's tag or reference.
With --append the bases are merged into the existing file -o names: a base
of the same name is replaced.`,
		Example: `  bulkhead policy baseline registry.example/base/debian:12 --name debian-12 -o .bulkhead/bases.yaml
  bulkhead policy baseline docker:python:3.12-slim --name python-3.12 -o .bulkhead/bases.yaml --append`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name != "" && len(args) > 1 {
				return &exitError{ExitError, errors.New("--name names one base: give one REF with --name, or leave --name out to name each base by its reference")}
			}
			if appendTo && (output == "" || output == "-") {
				return &exitError{ExitError, errors.New("--append merges into the file -o names: give -o FILE")}
			}
			opts := source.Options{Platform: platform, InsecureRegistry: insecure, DockerHost: dockerHost, TempDir: filepath.Join(g.cacheDir, "tmp")}
			var bases []basecheck.Base
			now := time.Now().UTC().Truncate(time.Second)
			for _, ref := range args {
				b, err := recordBase(cmd.Context(), ref, opts)
				if err != nil {
					return &exitError{ExitError, err}
				}
				if name != "" {
					b.Name = name
				}
				b.Added = now
				if !g.quiet {
					layers := "1 layer"
					if len(b.DiffIDs) != 1 {
						layers = fmt.Sprintf("%d layers", len(b.DiffIDs))
					}
					fmt.Fprintf(g.stderr, "approved base %s: %s (top %s)\n", b.Name, layers, shortDigest(b.DiffIDs[len(b.DiffIDs)-1]))
				}
				bases = basecheck.Merge(bases, []basecheck.Base{b})
			}
			if appendTo {
				existing, err := basecheck.LoadBases(output)
				switch {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					return &exitError{ExitError, err}
				default:
					bases = basecheck.Merge(existing, bases)
				}
			}
			var buf bytes.Buffer
			if err := basecheck.WriteBases(&buf, bases); err != nil {
				return &exitError{ExitError, err}
			}
			return writeReport(g, &scanFlags{output: output}, func(w io.Writer) error {
				_, err := w.Write(buf.Bytes())
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "name of the base (default: the image's tag or reference)")
	fl.StringVarP(&output, "output", "o", "", "write the bases file to FILE instead of stdout")
	fl.BoolVar(&appendTo, "append", false, "merge into the existing -o FILE (a base of the same name is replaced)")
	fl.StringVar(&platform, "platform", "", "platform of a multi-arch image, os/arch[/variant] (default linux/<host arch>)")
	fl.StringSliceVar(&insecure, "insecure-registry", nil, "registry host[:port] to reach over plain HTTP (repeatable)")
	fl.StringVar(&dockerHost, "docker-host", "", "Docker Engine address for docker: references (default DOCKER_HOST)")
	return cmd
}

// recordBase reads the layer digests of the image ref names.
func recordBase(ctx context.Context, ref string, opts source.Options) (basecheck.Base, error) {
	if t, rest := source.SplitTransport(ref); t == source.Docker {
		return dockerBase(ctx, ref, rest, opts)
	}
	target, err := source.Open(ctx, ref, opts)
	if err != nil {
		return basecheck.Base{}, err
	}
	img := target.Image
	if img == nil {
		return basecheck.Base{}, fmt.Errorf("%s is not an image (a directory or SBOM has no layers); give an image reference: docker-archive:, oci-layout:, docker:, a registry", ref)
	}
	defer img.Close()
	b := basecheck.Base{Ref: ref, Digest: img.ManifestDigest, ConfigDigest: img.ConfigDigest}
	if len(img.RepoTags) > 0 {
		b.Name = img.RepoTags[0]
	} else if img.Transport == source.Registry {
		b.Name = img.Name
	}
	for _, l := range img.Layers {
		b.DiffIDs = append(b.DiffIDs, l.DiffID)
	}
	return finishBase(b, ref)
}

// dockerBase reads the layers of an image in the Docker Engine from its
// inspect data: exporting the image would read every layer.
func dockerBase(ctx context.Context, ref, name string, opts source.Options) (basecheck.Base, error) {
	cli, err := source.DockerClient(opts.DockerHost)
	if err != nil {
		return basecheck.Base{}, err
	}
	defer cli.Close()
	inspect, err := cli.ImageInspect(ctx, name)
	if err != nil {
		if client.IsErrNotFound(err) {
			return basecheck.Base{}, fmt.Errorf("docker image %s: %w (docker images lists what the engine has)", name, source.ErrNotFound)
		}
		return basecheck.Base{}, fmt.Errorf("inspect docker image %s: %w (is the Docker Engine running and DOCKER_HOST right?)", name, err)
	}
	b := basecheck.Base{Name: name, Ref: ref, ConfigDigest: inspect.ID}
	if inspect.RootFS.Type != "" && inspect.RootFS.Type != "layers" {
		return basecheck.Base{}, fmt.Errorf("docker image %s: root filesystem type %q has no layer list", name, inspect.RootFS.Type)
	}
	b.DiffIDs = append(b.DiffIDs, inspect.RootFS.Layers...)
	for _, rd := range inspect.RepoDigests {
		if _, dg, ok := strings.Cut(rd, "@"); ok {
			b.Digest = dg
			break
		}
	}
	return finishBase(b, ref)
}

func finishBase(b basecheck.Base, ref string) (basecheck.Base, error) {
	if len(b.DiffIDs) == 0 {
		return b, fmt.Errorf("%s has no layers: nothing to approve", ref)
	}
	for i, d := range b.DiffIDs {
		if d == "" {
			return b, fmt.Errorf("%s: layer %d has no diffID in the image config", ref, i)
		}
	}
	if b.Name == "" {
		b.Name = ref
		for _, t := range []string{source.DockerArchive, source.OCIArchive, source.OCILayout} {
			if rest, ok := strings.CutPrefix(ref, t+":"); ok {
				b.Name = filepath.Base(rest) // docker-archive:/x/debian.tar → debian.tar
			}
		}
	}
	return b, nil
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
