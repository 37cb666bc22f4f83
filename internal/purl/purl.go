// Package purl computes package URLs (github.com/package-url/purl-spec) for
// inventoried packages, with the distro qualifier that OS packages need.
package purl

import (
	"strconv"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/package-url/packageurl-go"
)

// ForPackage returns the PURL of p on the operating system os (which may be
// nil when none was identified).
func ForPackage(p *inventory.Package, os *inventory.OS) string {
	var q []packageurl.Qualifier
	add := func(k, v string) {
		if v != "" {
			q = append(q, packageurl.Qualifier{Key: k, Value: v})
		}
	}
	// Qualifiers in lexical key order: the canonical form.
	switch p.Type {
	case inventory.TypeDeb:
		add("arch", p.Arch)
		add("distro", distro(os))
		add("upstream", upstream(p))
		return packageurl.NewPackageURL(packageurl.TypeDebian, namespace(p.Type, os), p.Name, p.Version, q, "").ToString()
	case inventory.TypeApk:
		add("arch", p.Arch)
		add("distro", distro(os))
		return packageurl.NewPackageURL(packageurl.TypeApk, namespace(p.Type, os), p.Name, p.Version, q, "").ToString()
	case inventory.TypeRPM:
		add("arch", p.Arch)
		add("distro", distro(os))
		if p.Epoch != 0 {
			add("epoch", strconv.Itoa(p.Epoch))
		}
		add("upstream", upstream(p))
		return packageurl.NewPackageURL(packageurl.TypeRPM, namespace(p.Type, os), p.Name, p.Version, q, "").ToString()
	}
	return packageurl.NewPackageURL(p.Type, "", p.Name, p.Version, q, "").ToString()
}

// upstream names the source package when it differs from the binary one:
// NAME, or NAME@VERSION when the versions differ too (a binNMU, an epoch
// on the binary only), so a PURL-only consumer can still match the
// distro's advisories, which are keyed by source name and version.
func upstream(p *inventory.Package) string {
	if p.Source == nil || p.Source.Name == "" {
		return ""
	}
	sameName := p.Source.Name == p.Name
	sameVersion := p.Source.Version == "" || p.Source.Version == p.Version
	switch {
	case sameName && sameVersion:
		return ""
	case sameVersion:
		return p.Source.Name
	}
	return p.Source.Name + "@" + p.Source.Version
}

// IsOSType reports whether packages of type t are OS packages, whose PURL
// depends on the distro (and so is computed after the OS is known).
func IsOSType(t string) bool {
	return t == inventory.TypeDeb || t == inventory.TypeApk || t == inventory.TypeRPM
}

func distro(os *inventory.OS) string {
	if os == nil || os.ID == "" {
		return ""
	}
	if os.VersionID == "" {
		if os.Codename != "" {
			return os.ID + "-" + os.Codename
		}
		return os.ID
	}
	return os.ID + "-" + os.VersionID
}

func namespace(typ string, os *inventory.OS) string {
	if os != nil && os.ID != "" {
		switch os.ID {
		case "rhel":
			return "redhat"
		case "amzn":
			return "amazon"
		case "ol":
			return "oracle"
		case "sles", "sled", "sle-micro":
			return "suse"
		case "opensuse-leap", "opensuse-tumbleweed":
			return "opensuse"
		}
		return os.ID
	}
	switch typ {
	case inventory.TypeDeb:
		return "debian"
	case inventory.TypeApk:
		return "alpine"
	}
	return ""
}
