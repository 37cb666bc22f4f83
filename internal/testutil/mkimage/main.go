// Command mkimage builds test and demo images from root filesystem states:
// the first state becomes the base layer, each later state a diff layer.
//
//	go run ./internal/testutil/mkimage -tag demo:1 -docker-archive demo.tar -oci-layout demo-oci \
//	  -state 'rootfs-base=debootstrap --variant=minbase bookworm' \
//	  -state 'rootfs-app=RUN apt-get install -y curl'
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/imagebuild"
)

type states []string

func (s *states) String() string     { return strings.Join(*s, ",") }
func (s *states) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var (
		st        states
		tag       = flag.String("tag", "bulkhead-demo:latest", "image tag")
		archive   = flag.String("docker-archive", "", "write a docker-archive tarball here")
		ociLayout = flag.String("oci-layout", "", "write an OCI layout (gzip layers) here")
		work      = flag.String("work", os.TempDir(), "directory for layer tar files")
		cmd       = flag.String("cmd", "/bin/bash", "image Cmd")
		user      = flag.String("user", "", "image User")
	)
	flag.Var(&st, "state", "DIR=CREATED_BY: a root filesystem state (repeatable, in order)")
	flag.Parse()
	if err := run(st, *tag, *archive, *ociLayout, *work, *cmd, *user); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(st states, tag, archive, ociLayout, work, cmd, user string) error {
	if len(st) == 0 {
		return fmt.Errorf("no -state given")
	}
	var layers []imagebuild.Layer
	prev := ""
	for i, s := range st {
		dir, createdBy, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("-state %q: want DIR=CREATED_BY", s)
		}
		out := filepath.Join(work, fmt.Sprintf("layer-%d.tar", i))
		var err error
		if prev == "" {
			err = imagebuild.WriteDirTar(dir, out)
		} else {
			err = imagebuild.WriteDiffTar(prev, dir, out)
		}
		if err != nil {
			return fmt.Errorf("layer from %s: %w", dir, err)
		}
		layers = append(layers, imagebuild.Layer{Tar: out, CreatedBy: createdBy})
		prev = dir
	}
	cfg := v1.Config{Cmd: []string{cmd}, User: user, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	img, err := imagebuild.Image(layers, cfg, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	if archive != "" {
		if err := imagebuild.WriteDockerArchive(archive, tag, img); err != nil {
			return fmt.Errorf("write docker-archive: %w", err)
		}
	}
	if ociLayout != "" {
		if err := os.RemoveAll(ociLayout); err != nil {
			return err
		}
		if err := imagebuild.WriteOCILayout(ociLayout, tag, img); err != nil {
			return fmt.Errorf("write oci-layout: %w", err)
		}
	}
	return nil
}
