package basecheck

import (
	"fmt"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Origins of a layer (Result.Origin).
const (
	OriginBase = "base"
	OriginApp  = "app"
)

// Result is the verdict on one image.
type Result struct {
	// Approved is true when the image's bottom layers are one approved
	// base's layers.
	Approved bool
	// Base names the base: the approved base matched, else the base the
	// image declares in its OCI labels or annotations
	// (org.opencontainers.image.base.name, @base.digest when given), else
	// "".
	Base string
	// Nearest is, for an image not on an approved base, the approved base
	// sharing the longest run of bottom layers with it (ties: fewer
	// differing layers, then the base the image declares, then name).
	Nearest string
	// MatchedLayers is how many bottom layers the image shares with Base
	// (approved) or Nearest.
	MatchedLayers int
	// DifferingLayers is how many of Nearest's layers the image does not
	// have at the same position (0 when approved).
	DifferingLayers int
	// BaseLayers is how many of the image's bottom layers are the base's:
	// the approved base's layer count, 0 when the base is not known by its
	// layers.
	BaseLayers int
	// ImageLayers is the image's layer count.
	ImageLayers int
	// DeclaredBase and DeclaredDigest are the image's
	// org.opencontainers.image.base.name and .base.digest (labels or
	// manifest annotations), when set.
	DeclaredBase, DeclaredDigest string
	// Reason says the verdict in a sentence, for the WHY block.
	Reason string
}

// Origin tells whose a layer is: "base" for the base's layers, "app" for
// the layers above, "" when the base is not known by its layers or the
// index is not a layer (a config finding, NoLayer).
func (r Result) Origin(layerIndex int) string {
	if r.BaseLayers <= 0 || layerIndex < 0 {
		return ""
	}
	if layerIndex < r.BaseLayers {
		return OriginBase
	}
	return OriginApp
}

// Check compares the layers of the scanned image (inv.Artifact.Layers,
// bottom first) with the approved bases. The longest approved base whose
// layers are the image's bottom layers is the image's base.
func Check(inv *inventory.Inventory, approved []Base) Result {
	var res Result
	if inv == nil {
		res.Reason = "nothing was scanned"
		return res
	}
	res.DeclaredBase, res.DeclaredDigest = declaredBase(&inv.Artifact)
	declared := res.DeclaredBase
	if declared != "" && res.DeclaredDigest != "" {
		declared += "@" + res.DeclaredDigest
	}
	layers := make([]string, len(inv.Artifact.Layers))
	for i, l := range inv.Artifact.Layers {
		layers[i] = l.DiffID
	}
	res.ImageLayers = len(layers)
	if inv.Artifact.Type == inventory.ArtifactFilesystem || len(layers) == 0 {
		res.Reason = "not a container image: there are no layers to compare with approved bases"
		return res
	}
	if len(approved) == 0 {
		res.Base = declared
		if declared != "" {
			res.Reason = fmt.Sprintf("no approved base images are given; the image declares its base as %s", declared)
		} else {
			res.Reason = "no approved base images are given, and the image does not declare its base (org.opencontainers.image.base.name)"
		}
		return res
	}
	best, nearest := -1, -1
	var nearestCommon int
	for i := range approved {
		b := &approved[i]
		common := commonPrefix(layers, b.DiffIDs)
		if common == len(b.DiffIDs) && common > 0 {
			if best < 0 || len(b.DiffIDs) > len(approved[best].DiffIDs) ||
				len(b.DiffIDs) == len(approved[best].DiffIDs) && b.Name < approved[best].Name {
				best = i
			}
			continue
		}
		if nearest < 0 || closer(common, b, nearestCommon, &approved[nearest], res.DeclaredBase, res.DeclaredDigest) {
			nearest, nearestCommon = i, common
		}
	}
	if best >= 0 {
		b := &approved[best]
		res.Approved = true
		res.Base = b.Name
		res.MatchedLayers = len(b.DiffIDs)
		res.BaseLayers = len(b.DiffIDs)
		res.Reason = fmt.Sprintf("built on approved base %s: the bottom %s of the image's %d are its layers", b.Name, plural(len(b.DiffIDs), "layer"), len(layers))
		if res.DeclaredBase != "" && !declares(res.DeclaredBase, res.DeclaredDigest, b) {
			res.Reason += fmt.Sprintf(" (the image declares %s)", declared)
		}
		return res
	}
	n := &approved[nearest]
	res.Base = declared
	res.Nearest = n.Name
	res.MatchedLayers = nearestCommon
	res.DifferingLayers = len(n.DiffIDs) - nearestCommon
	var why string
	switch {
	case nearestCommon == 0:
		why = fmt.Sprintf("no bottom layer in common with any of the %s; nearest: %s (%s)", plural(len(approved), "approved base"), n.Name, plural(len(n.DiffIDs), "layer"))
	case nearestCommon == len(layers):
		why = fmt.Sprintf("the image is only the bottom %s of approved base %s, which has %d", plural(nearestCommon, "layer"), n.Name, len(n.DiffIDs))
	default:
		why = fmt.Sprintf("nearest approved base %s: %d of its %s match, %d differ", n.Name, nearestCommon, plural(len(n.DiffIDs), "layer"), res.DifferingLayers)
	}
	res.Reason = "not on an approved base image: " + why
	if declared != "" {
		for i := range approved {
			if declares(res.DeclaredBase, res.DeclaredDigest, &approved[i]) {
				res.Reason += fmt.Sprintf("; the image declares approved base %s but its layers are not that base's (rebuilt on another base, or the base was updated)", approved[i].Name)
				return res
			}
		}
		res.Reason += "; the image declares its base as " + declared
	}
	res.Reason += "; rebuild on an approved base"
	return res
}

// closer reports whether base a, with ac bottom layers in common with the
// image, is nearer than base b with bc: more layers in common, then fewer
// differing, then the base the image declares, then by name.
func closer(ac int, a *Base, bc int, b *Base, declName, declDigest string) bool {
	if ac != bc {
		return ac > bc
	}
	ad, bd := len(a.DiffIDs)-ac, len(b.DiffIDs)-bc
	if ad != bd {
		return ad < bd
	}
	if da, db := declares(declName, declDigest, a), declares(declName, declDigest, b); da != db {
		return da
	}
	return a.Name < b.Name
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] != "" && a[n] == b[n] {
		n++
	}
	return n
}

// declaredBase returns the base an image declares: OCI manifest
// annotations first, then config labels.
func declaredBase(a *inventory.Artifact) (name, digest string) {
	for _, m := range []map[string]string{a.Annotations, a.Labels} {
		if m[inventory.AnnotationBaseName] != "" || m[inventory.AnnotationBaseDigest] != "" {
			return strings.TrimSpace(m[inventory.AnnotationBaseName]), strings.TrimSpace(m[inventory.AnnotationBaseDigest])
		}
	}
	return "", ""
}

// declares reports whether the declared base (name, digest) is b: the
// digest is b's manifest digest, or the name is b's name or reference.
func declares(name, digest string, b *Base) bool {
	if digest != "" && digest == b.Digest {
		return true
	}
	if name == "" {
		return false
	}
	return name == b.Name || name == b.Ref || strings.TrimPrefix(b.Ref, "registry:") == name || strings.TrimPrefix(b.Ref, "docker:") == name
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
