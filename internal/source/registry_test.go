package source

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRegistry pushes images to an in-memory registry served on loopback
// over plain HTTP and opens them as a scan would.
func TestRegistry(t *testing.T) {
	// No credentials from the developer's own Docker config.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	opts := Options{InsecureRegistry: []string{host}}

	single := buildImage(t, "amd64", gzipped, zstded, gzipped)
	amd := buildImage(t, "amd64", gzipped, gzipped, gzipped)
	arm := buildImage(t, "arm64", gzipped, gzipped, gzipped)
	push(t, host+"/bulkhead/single:v1", func(ref name.Reference) error { return remote.Write(ref, single.img) })
	push(t, host+"/bulkhead/multi:v1", func(ref name.Reference) error {
		return remote.WriteIndex(ref, multiArchIndex(amd, arm))
	})

	push(t, host+"/bulkhead/empty:v1", func(ref name.Reference) error { return remote.WriteIndex(ref, empty.Index) })

	byArch := map[string]*fixture{"amd64": amd, "arm64": arm}
	tests := []struct {
		name     string
		ref      string
		platform string
		want     *fixture // nil: an error is expected
		wantTags []string
		wantErr  string
		notFnd   bool
	}{
		{name: "tag", ref: host + "/bulkhead/single:v1", want: single, wantTags: []string{host + "/bulkhead/single:v1"}},
		{name: "registry transport", ref: "registry:" + host + "/bulkhead/single:v1", want: single, wantTags: []string{host + "/bulkhead/single:v1"}},
		{name: "digest", ref: host + "/bulkhead/single@" + single.manifestDigest, want: single},
		{name: "index arm64", ref: host + "/bulkhead/multi:v1", platform: "linux/arm64", want: arm, wantTags: []string{host + "/bulkhead/multi:v1"}},
		{name: "index amd64", ref: host + "/bulkhead/multi:v1", platform: "linux/amd64", want: amd, wantTags: []string{host + "/bulkhead/multi:v1"}},
		{name: "index host default", ref: host + "/bulkhead/multi:v1", want: byArch[runtime.GOARCH], wantTags: []string{host + "/bulkhead/multi:v1"}, wantErr: "no image for platform"},
		{name: "index missing platform", ref: host + "/bulkhead/multi:v1", platform: "linux/s390x", wantErr: "no image for platform linux/s390x (the index has linux/amd64, linux/arm64); choose one with --platform"},
		{name: "empty index", ref: host + "/bulkhead/empty:v1", wantErr: "the image index lists no manifest"},
		{name: "unknown tag", ref: host + "/bulkhead/single:v2", wantErr: "MANIFEST_UNKNOWN", notFnd: true},
		{name: "unknown repository", ref: host + "/bulkhead/nothing:v1", wantErr: "fetch " + host + "/bulkhead/nothing:v1: not found", notFnd: true},
		{name: "bad reference", ref: host + "/Bulkhead/UPPER:v1", wantErr: "use docker-archive:, oci-layout:, oci-archive:, dir: or docker: for local images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.Platform = tt.platform
			target, err := Open(context.Background(), tt.ref, o)
			if tt.want == nil {
				if err == nil {
					target.Image.Close()
					t.Fatalf("Open(%q) succeeded, want error %q", tt.ref, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q\nwant it to contain %q", err, tt.wantErr)
				}
				if tt.notFnd && !errors.Is(err, ErrNotFound) {
					t.Errorf("error %q is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.ref, err)
			}
			img := target.Image
			defer img.Close()
			checkImage(t, img, tt.want, tt.want.wantView(Registry, true, true))
			if got := strings.Join(img.RepoTags, ","); got != strings.Join(tt.wantTags, ",") {
				t.Errorf("RepoTags = %q, want %q", img.RepoTags, tt.wantTags)
			}
			if len(img.RepoDigests) != 1 || !strings.HasSuffix(img.RepoDigests[0], "@"+tt.want.manifestDigest) {
				t.Errorf("RepoDigests = %q, want one ending in @%s", img.RepoDigests, tt.want.manifestDigest)
			}
		})
	}
}

func push(t *testing.T, ref string, write func(name.Reference) error) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(r); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func TestInsecure(t *testing.T) {
	tests := []struct {
		ref        string
		registries []string
		want       bool
	}{
		{"127.0.0.1:5000/app:1", []string{"127.0.0.1:5000"}, true},
		{"127.0.0.1:5000/app:1", []string{"http://127.0.0.1:5000/"}, true},
		{"127.0.0.1:5000/app:1", []string{"127.0.0.1:5001"}, false},
		{"ghcr.io/org/app", []string{"*"}, true},
		{"ghcr.io/org/app", nil, false},
		{"app", []string{"index.docker.io"}, false},
	}
	for _, tt := range tests {
		if got := insecure(tt.ref, tt.registries); got != tt.want {
			t.Errorf("insecure(%q, %q) = %v, want %v", tt.ref, tt.registries, got, tt.want)
		}
	}
}
