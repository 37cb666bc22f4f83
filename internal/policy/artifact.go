package policy

// The rules on the artifact as a whole: licences, where the image and its
// bases come from, the image configuration, the approved base, custom CEL.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// packageRules are the licence rules.
func (e *evaluation) packageRules() {
	for _, r := range e.p.Rules {
		if r.Licenses == nil {
			continue
		}
		// Packages share a few licence strings: decide each once.
		memo := map[string][]string{}
		for i := range e.inv.Packages {
			p := &e.inv.Packages[i]
			if len(p.Licenses) == 0 {
				continue
			}
			lk := strings.Join(p.Licenses, "\x00")
			denied, ok := memo[lk]
			if !ok {
				denied = deniedLicenses(p.Licenses, r.Licenses.Deny)
				memo[lk] = denied
			}
			if len(denied) == 0 {
				continue
			}
			li, path, by := -1, "", ""
			if len(p.Locations) > 0 {
				li, path, by = e.layer(p.Locations[0].LayerIndex, p.Locations[0].LayerDiffID), p.Locations[0].Path, p.Locations[0].CreatedBy
			}
			f := Finding{Kind: kindLicense, ID: strings.Join(p.Licenses, " AND "), Package: p.Name, Version: p.Version,
				Path: path, LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, by), Origin: e.origin(li),
				Message: fmt.Sprintf("%s %s is licensed %s; denied: %s", p.Name, p.Version, strings.Join(p.Licenses, " AND "), strings.Join(denied, ", "))}
			if r.Origin != "" && f.Origin != "" && r.Origin != f.Origin {
				continue
			}
			if e.suppress(&f, append([]string{p.Name}, p.Licenses...), []string{p.Name}) {
				continue
			}
			key := "license\x00" + r.Name + "\x00" + p.Type + "\x00" + p.Name + "\x00" + p.Version
			e.add(f, []string{r.Name}, r.Action, kindOrder[kindLicense], key,
				fmt.Sprintf("replace %s %s: licence %s is denied", p.Name, p.Version, strings.Join(p.Licenses, " AND ")), 0)
		}
	}
}

// imageRef is the scanned image's registry reference, when it has one:
// the reference pulled (registry, docker daemon), else the tag an archive
// or layout carries; never a file path. ok is false for an image with no
// reference at all.
func imageRef(a *inventory.Artifact) (ref name.Reference, s string, ok bool) {
	if a.Type != inventory.ArtifactImage {
		return nil, "", true
	}
	var cands []string
	switch a.Transport {
	case "registry", "docker", "":
		cands = append(cands, strings.TrimPrefix(a.Ref, "docker:"), a.Name)
	}
	for _, t := range a.RepoTags {
		if strings.ContainsAny(t, "/:") { // "1.0" alone is an OCI ref.name tag, not a reference
			cands = append(cands, t)
		}
	}
	for _, c := range cands {
		if c == "" || strings.Contains(c, ":/") || strings.HasPrefix(c, "/") || strings.HasPrefix(c, ".") {
			continue
		}
		if r, err := name.ParseReference(c); err == nil {
			return r, c, true
		}
	}
	return nil, "", false
}

// repoOf is "registry/repository" of a reference: docker.io/library/alpine.
func repoOf(ref name.Reference) string {
	reg := ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io" // as people write it
	}
	return reg + "/" + ref.Context().RepositoryStr()
}

func (e *evaluation) sourceRules() {
	type subject struct {
		ref        string
		path       string
		line       int
		fromImage  bool
		registryOK bool // the reference is a registry pull (digest pinning applies)
		unresolved bool // FROM ${ARG} with no default
	}
	var subjects []subject
	ref, s, known := imageRef(&e.inv.Artifact)
	if ref != nil {
		subjects = append(subjects, subject{ref: s, registryOK: e.inv.Artifact.Transport == "registry" || e.inv.Artifact.Transport == ""})
	}
	for _, f := range e.in.Froms {
		subjects = append(subjects, subject{ref: f.Image, path: f.Path, line: f.Line, fromImage: true, registryOK: true, unresolved: f.Unresolved})
	}
	for _, r := range e.p.Rules {
		sr := r.Sources
		if sr == nil {
			continue
		}
		if !known && len(sr.allowed) > 0 {
			// Not a pass: say that the source could not be checked.
			f := Finding{Kind: kindSource, ID: "unknown-source", Path: e.inv.Artifact.Ref,
				Message: "the image has no registry reference (an archive or layout without a tag), so where it comes from cannot be checked"}
			if !e.suppress(&f, []string{f.ID}, nil) {
				e.add(f, []string{r.Name}, Warn, kindOrder[kindSource], "source\x00unknown",
					"scan the image by its registry reference, or tag the archive (docker save REPO:TAG)", 0)
			}
		}
		for _, s := range subjects {
			if s.unresolved {
				// Not a pass either: the base is chosen at build time.
				f := Finding{Kind: kindSource, ID: "unresolved-from", Path: s.path, Line: s.line,
					Message: "FROM " + s.ref + ": a build ARG with no default chooses the base image, so where it comes from cannot be checked"}
				if !e.suppress(&f, []string{f.ID, s.ref}, nil) {
					e.add(f, []string{r.Name}, Warn, kindOrder[kindSource], "source\x00unresolved\x00"+s.path,
						"give the ARG a default from an allowed source (ARG BASE=registry.example.com/base:1), so the policy can check it", 0)
				}
				continue
			}
			ref, err := name.ParseReference(s.ref)
			what := "image " + s.ref
			if s.fromImage {
				what = "FROM " + s.ref
			}
			f := Finding{Kind: kindSource, ID: s.ref, Path: s.path, Line: s.line}
			if err != nil {
				f.Message = what + ": not a valid image reference"
				e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "source\x00"+s.ref+"\x00"+s.path, "use a valid image reference instead of "+s.ref, 0)
				continue
			}
			repo := repoOf(ref)
			if len(sr.allowed) > 0 {
				ok := false
				for _, re := range sr.allowed {
					ok = ok || re.MatchString(repo)
				}
				if !ok {
					f.Message = fmt.Sprintf("%s comes from %s, which no allowed pattern matches", what, repo)
					if e.suppress(&f, []string{s.ref, repo}, nil) {
						continue
					}
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "source\x00"+repo+"\x00"+s.path,
						fmt.Sprintf("use an image from an allowed source (%s) instead of %s", strings.Join(sr.Allowed, ", "), repo), 0)
					continue
				}
			}
			if _, pinned := ref.(name.Digest); sr.RequireDigest && s.registryOK && !pinned {
				f.Message = what + " is not pinned by digest"
				if e.suppress(&f, []string{s.ref, repo}, nil) {
					continue
				}
				fix := fmt.Sprintf("pin %s by digest: %s@sha256:<digest>", s.ref, s.ref)
				if s.fromImage {
					fix = fmt.Sprintf("pin the base image by digest: FROM %s@sha256:<digest>", s.ref)
				}
				e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "digest\x00"+s.ref+"\x00"+s.path, fix, 0)
			}
		}
	}
}

func (e *evaluation) imageRules() {
	a := &e.inv.Artifact
	if a.Type != inventory.ArtifactImage {
		return
	}
	for _, r := range e.p.Rules {
		ir := r.Image
		if ir == nil {
			continue
		}
		for _, l := range ir.RequiredLabels {
			if _, ok := a.Labels[l]; ok || slices.Contains(a.LabelKeys, l) {
				continue
			}
			f := Finding{Kind: kindImage, ID: "label:" + l, Path: "config.Labels", Message: "the image has no label " + l}
			if e.suppress(&f, []string{f.ID}, nil) {
				continue
			}
			e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "labels\x00"+r.Name, "add the missing labels to the Dockerfile: LABEL "+l+"=…", 0)
		}
		if ir.NonRoot {
			if user, _, _ := strings.Cut(a.User, ":"); user == "" || user == "root" || user == "0" {
				msg := "the image sets no USER, so it runs as root"
				if a.User != "" {
					msg = fmt.Sprintf("the image runs as %q", a.User)
				}
				f := Finding{Kind: kindImage, ID: "non-root", Path: "config.User", Message: msg}
				if !e.suppress(&f, []string{f.ID, misconfig.IMGRootUser}, nil) {
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "user", "add USER with a non-root uid (USER 10001) to the Dockerfile", 0)
				}
			}
		}
		if ir.MaxAgeDays > 0 {
			created, err := time.Parse(time.RFC3339, a.Created)
			if err != nil {
				continue // no creation date: nothing to age (BH-IMG-010 says the same)
			}
			days := int(e.now.Sub(created).Hours() / 24)
			if days > ir.MaxAgeDays {
				f := Finding{Kind: kindImage, ID: "max-age", Path: "config.Created",
					Message: fmt.Sprintf("built %s, %d days ago; the limit is %d", created.UTC().Format(time.DateOnly), days, ir.MaxAgeDays)}
				if !e.suppress(&f, []string{f.ID, misconfig.IMGOld}, nil) {
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "age",
						fmt.Sprintf("rebuild the image (built %s, %d days ago; limit %d days)", created.UTC().Format(time.DateOnly), days, ir.MaxAgeDays), 0)
				}
			}
		}
	}
}

// baseRules: an image whose bottom layers are not an approved base's is
// drift from the approved images. A check that could not run is a finding
// of the rule too: never a silent pass.
func (e *evaluation) baseRules() {
	if e.inv.Artifact.Type != inventory.ArtifactImage {
		return
	}
	for _, r := range e.p.Rules {
		if r.Base == nil {
			continue
		}
		b := e.in.Base
		f := Finding{Kind: kindBase, ID: "approved-base", Path: "layers"}
		var fix string
		switch {
		case b == nil || b.Err != nil:
			f.Message = "the approved-base check did not run"
			if b != nil {
				f.Message = "the approved-base check failed: " + b.Err.Error()
			}
			fix = "make the approved bases readable (bulkhead policy baseline REF -o FILE)"
		case b.Approved:
			continue
		default:
			f.Message = b.Reason
			if f.Message == "" {
				f.Message = fmt.Sprintf("the image's bottom layers are no approved base's; nearest %s (%d layers match, %d differ)", b.Nearest, b.MatchedLayers, b.DifferingLayers)
			}
			fix = "rebuild on an approved base"
			if b.Nearest != "" {
				fix += fmt.Sprintf(" (nearest: %s, %d layers match, %d differ)", b.Nearest, b.MatchedLayers, b.DifferingLayers)
			}
		}
		if e.suppress(&f, []string{f.ID}, nil) {
			continue
		}
		e.add(f, []string{r.Name}, r.Action, kindOrder[kindBase], "base\x00"+r.Name, fix, 0)
	}
}

// celDocument is the report's shape for CEL (json.go's jsonDocument
// without the schema version).
type celDocument struct {
	Artifact          inventory.Artifact        `json:"artifact"`
	OS                *inventory.OS             `json:"os"`
	Packages          []inventory.Package       `json:"packages"`
	Vulnerabilities   []inventory.Vulnerability `json:"vulnerabilities"`
	Secrets           []inventory.Secret        `json:"secrets"`
	Malware           []inventory.Malware       `json:"malware"`
	Misconfigurations []misconfig.Finding       `json:"misconfigurations"`
}

func (e *evaluation) celRules() {
	var vars map[string]any
	for _, r := range e.p.Rules {
		if r.CEL == nil {
			continue
		}
		if vars == nil {
			src := &e.kept
			if e.in.Baseline != nil {
				src = &e.fresh
			}
			vars = celInput(&celDocument{Artifact: e.kept.Artifact, OS: e.kept.OS, Packages: e.kept.Packages,
				Vulnerabilities: src.Vulnerabilities, Secrets: src.Secrets, Malware: src.Malware, Misconfigurations: src.Misconfigurations})
		}
		violated, err := evalCEL(r.CEL.prg, vars)
		f := Finding{Kind: kindCustom, ID: r.Name, Message: r.CEL.Expr}
		fix := cmp.Or(r.CEL.Message, "custom rule "+r.Name+" is violated: "+r.CEL.Expr)
		switch {
		case err != nil:
			f.Message = "could not be evaluated: " + err.Error()
			fix = "fix custom rule " + r.Name + ": it could not be evaluated on this report"
		case !violated:
			continue
		}
		if e.suppress(&f, []string{r.Name}, nil) {
			continue
		}
		e.add(f, []string{r.Name}, r.Action, kindOrder[kindCustom], "cel\x00"+r.Name, fix, 0)
	}
}
