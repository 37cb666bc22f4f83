package match

import (
	"context"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// query is one lookup in the advisory database for a package.
type query struct {
	ecosystem string // with release: Debian:12
	name      string // as advisories name it (the source package for distros)
	version   string // the version advisories speak of
}

// languageEcosystems maps package types to OSV ecosystems.
var languageEcosystems = map[string]string{
	"npm":      osv.NPM,
	"pypi":     osv.PyPI,
	"golang":   osv.Go,
	"maven":    osv.Maven,
	"cargo":    osv.CratesIO,
	"gem":      osv.RubyGems,
	"composer": osv.Packagist,
	"nuget":    osv.NuGet,
}

// queries lists where the advisories for p live. It returns a reason when
// the package's ecosystem is known but cannot be matched (a distro release
// without data, RHEL's repository-specific ecosystems).
func queries(p *inventory.Package, o *inventory.OS, rel *releaseLister) ([]query, string) {
	if p.Private {
		return nil, ""
	}
	if eco, ok := languageEcosystems[p.Type]; ok {
		return []query{{ecosystem: eco, name: p.Name, version: p.Version}}, ""
	}
	srcName, srcVersion := p.Name, p.Version
	if p.Source != nil && p.Source.Name != "" {
		srcName = p.Source.Name
		if p.Source.Version != "" {
			srcVersion = p.Source.Version
		}
	}
	if o == nil {
		return nil, "no operating system identified: OS packages cannot be matched to a distro's advisories"
	}
	family := o.Family()
	switch p.Type {
	case inventory.TypeDeb:
		switch family {
		case "debian":
			rel := major(o.VersionID)
			if rel == "" {
				return nil, "Debian release without VERSION_ID (testing/sid): no release-specific advisories"
			}
			return []query{{ecosystem: osv.Debian + ":" + rel, name: srcName, version: srcVersion}}, ""
		case "ubuntu":
			if o.VersionID == "" {
				return nil, "Ubuntu without VERSION_ID"
			}
			qs := []query{
				{ecosystem: osv.Ubuntu + ":" + o.VersionID + ":LTS", name: srcName, version: srcVersion},
				{ecosystem: osv.Ubuntu + ":" + o.VersionID, name: srcName, version: srcVersion},
			}
			if strings.Contains(p.Version, "esm") {
				qs = append(qs, query{ecosystem: osv.Ubuntu + ":Pro:" + o.VersionID + ":LTS", name: srcName, version: srcVersion})
			}
			return qs, ""
		}
	case inventory.TypeApk:
		switch o.ID {
		case "wolfi":
			return []query{{ecosystem: osv.Wolfi, name: srcName, version: p.Version}}, ""
		case "chainguard":
			return []query{{ecosystem: osv.Chainguard, name: srcName, version: p.Version}}, ""
		case "alpine":
			rel := majorMinor(o.VersionID)
			if rel == "" {
				return nil, "Alpine without VERSION_ID"
			}
			// apk advisories are keyed by origin; origin and package
			// share the version.
			return []query{{ecosystem: osv.Alpine + ":v" + rel, name: srcName, version: p.Version}}, ""
		}
	case inventory.TypeRPM:
		v := p.Version
		if p.Epoch > 0 {
			v = strconv.Itoa(p.Epoch) + ":" + v
		}
		var ecos []string
		switch o.ID {
		case "rocky":
			ecos = []string{osv.Rocky + ":" + major(o.VersionID)}
		case "almalinux":
			ecos = []string{osv.AlmaLinux + ":" + major(o.VersionID)}
		case "rhel":
			// Red Hat's advisories are split by repository stream:
			// "Red Hat:enterprise_linux:9::baseos", "...::appstream".
			ecos = rel.releases(osv.RedHat + ":enterprise_linux:" + major(o.VersionID) + "::")
		}
		if len(ecos) == 0 {
			if o.ID == "rhel" {
				return nil, "no Red Hat Enterprise Linux " + major(o.VersionID) + " advisories in the database"
			}
			return nil, "no OSV advisories are matched for " + o.ID + " yet"
		}
		var qs []query
		for _, eco := range ecos {
			qs = append(qs, query{ecosystem: eco, name: p.Name, version: v})
			if srcName != p.Name {
				qs = append(qs, query{ecosystem: eco, name: srcName, version: v})
			}
		}
		return qs, ""
	}
	return nil, "no advisory source for " + p.Type + " packages on " + o.ID
}

// releaseLister lists a distro's release ecosystems when the source can
// (the database); an in-memory source without it matches none.
type releaseLister struct {
	ctx  context.Context
	src  Source
	memo map[string][]string
	err  error
}

// Releaser is implemented by sources that can list ecosystems by prefix.
type Releaser interface {
	Releases(ctx context.Context, prefix string) ([]string, error)
}

func (r *releaseLister) releases(prefix string) []string {
	if v, ok := r.memo[prefix]; ok {
		return v
	}
	rs, ok := r.src.(Releaser)
	if !ok {
		return nil
	}
	v, err := rs.Releases(r.ctx, prefix)
	if err != nil && r.err == nil {
		r.err = err
	}
	r.memo[prefix] = v
	return v
}

func major(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
