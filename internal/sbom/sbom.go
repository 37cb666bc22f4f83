// Package sbom reads CycloneDX and SPDX JSON documents written by bulkhead,
// Syft or Trivy back into an inventory, so a stored SBOM can be checked
// against today's advisories without the image.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// MaxSize bounds the SBOM document read into memory.
const MaxSize = 256 << 20

// ErrUnknownFormat is returned for a document that is neither CycloneDX
// nor SPDX JSON.
var ErrUnknownFormat = errors.New("not a CycloneDX or SPDX JSON document")

// Read decodes an SBOM into an inventory.
func Read(r io.Reader, name string) (*inventory.Inventory, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read SBOM %s: %w", name, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("read SBOM %s: larger than %d bytes", name, MaxSize)
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("read SBOM %s: %w: %v", name, ErrUnknownFormat, err)
	}
	var inv *inventory.Inventory
	switch {
	case probe.BOMFormat == "CycloneDX":
		inv, err = fromCycloneDX(b)
	case strings.HasPrefix(probe.SPDXVersion, "SPDX-"):
		inv, err = fromSPDX(b)
	default:
		return nil, fmt.Errorf("read SBOM %s: %w", name, ErrUnknownFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("read SBOM %s: %w", name, err)
	}
	inv.Artifact.Ref = name
	if inv.Artifact.Name == "" {
		inv.Artifact.Name = name
	}
	if inv.OS == nil {
		inv.OS = osFromPURLs(inv.Packages)
	}
	inventory.SortPackages(inv.Packages)
	return inv, nil
}

func fromCycloneDX(b []byte) (*inventory.Inventory, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("decode CycloneDX: %w", err)
	}
	inv := &inventory.Inventory{}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		c := bom.Metadata.Component
		inv.Artifact.Name = c.Name
		inv.Artifact.Type = inventory.ArtifactFilesystem
		if c.Type == cdx.ComponentTypeContainer {
			inv.Artifact.Type = inventory.ArtifactImage
		}
	}
	var walk func(cs *[]cdx.Component)
	walk = func(cs *[]cdx.Component) {
		if cs == nil {
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
			props := map[string]string{}
			if c.Properties != nil {
				for _, p := range *c.Properties {
					props[p.Name] = p.Value
				}
			}
			switch {
			case c.Type == cdx.ComponentTypeOS:
				if inv.OS == nil {
					inv.OS = &inventory.OS{ID: strings.ToLower(c.Name), VersionID: c.Version, Name: c.Description}
				}
			case c.PackageURL != "":
				if p, ok := fromPURL(c.PackageURL, props); ok {
					p.Licenses = cdxLicenses(c.Licenses)
					p.Dev = c.Scope == cdx.ScopeOptional
					p.Private = props["bulkhead:package:private"] == "true"
					p.OtherPURLs = identityPURLs(c.Evidence, c.PackageURL)
					inv.Packages = append(inv.Packages, p)
				}
			}
			walk(c.Components)
		}
	}
	walk(bom.Components)
	return inv, nil
}

// identityPURLs are the purls in a component's identity evidence other than
// its own: where bulkhead writes a package's identifiers in other
// ecosystems.
func identityPURLs(e *cdx.Evidence, own string) []string {
	if e == nil || e.Identity == nil {
		return nil
	}
	var ids []cdx.EvidenceIdentity
	if e.Identity.Identities != nil {
		ids = *e.Identity.Identities
	} else if e.Identity.Identity != nil {
		ids = []cdx.EvidenceIdentity{*e.Identity.Identity}
	}
	var out []string
	for _, id := range ids {
		if id.Field == cdx.EvidenceIdentityFieldTypePURL && id.ConcludedValue != "" && id.ConcludedValue != own {
			out = append(out, id.ConcludedValue)
		}
	}
	return out
}

func cdxLicenses(ls *cdx.Licenses) []string {
	if ls == nil {
		return nil
	}
	var out []string
	for _, l := range *ls {
		switch {
		case l.Expression != "":
			out = append(out, l.Expression)
		case l.License != nil && l.License.ID != "":
			out = append(out, l.License.ID)
		case l.License != nil && l.License.Name != "":
			out = append(out, l.License.Name)
		}
	}
	return out
}

func fromSPDX(b []byte) (*inventory.Inventory, error) {
	doc, err := spdxjson.Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode SPDX: %w", err)
	}
	inv := &inventory.Inventory{}
	inv.Artifact.Name = doc.DocumentName
	for _, p := range doc.Packages {
		if p == nil {
			continue
		}
		purpose := strings.ReplaceAll(strings.ToUpper(p.PrimaryPackagePurpose), "_", "-")
		if purpose == "OPERATING-SYSTEM" && inv.OS == nil {
			inv.OS = &inventory.OS{ID: strings.ToLower(p.PackageName), VersionID: p.PackageVersion}
			continue
		}
		if purpose == "CONTAINER" {
			inv.Artifact.Type = inventory.ArtifactImage
		}
		// The first purl is the package's own; bulkhead writes the same
		// software's identifiers in other ecosystems after it.
		var purls []string
		for _, ref := range p.PackageExternalReferences {
			if ref != nil && strings.EqualFold(ref.RefType, spdx.PackageManagerPURL) {
				purls = append(purls, ref.Locator)
			}
		}
		if len(purls) == 0 {
			continue
		}
		if pkg, ok := fromPURL(purls[0], nil); ok {
			if l := p.PackageLicenseDeclared; l != "" && l != "NOASSERTION" && l != "NONE" {
				pkg.Licenses = []string{l}
			}
			if len(purls) > 1 {
				pkg.OtherPURLs = purls[1:]
			}
			if pkg.Type != "oci" && pkg.Type != "docker" {
				inv.Packages = append(inv.Packages, pkg)
			}
		}
	}
	return inv, nil
}

// purlTypes maps PURL types to inventory package types.
var purlTypes = map[string]string{
	packageurl.TypeDebian: inventory.TypeDeb, packageurl.TypeApk: inventory.TypeApk, packageurl.TypeRPM: inventory.TypeRPM,
	packageurl.TypeNPM: "npm", packageurl.TypePyPi: "pypi", packageurl.TypeGolang: "golang", packageurl.TypeMaven: "maven",
	packageurl.TypeCargo: "cargo", packageurl.TypeGem: "gem", packageurl.TypeComposer: "composer", packageurl.TypeNuget: "nuget",
}

// fromPURL rebuilds a package from its PURL and the tool-specific
// properties that carry what a PURL cannot (source package, location).
func fromPURL(s string, props map[string]string) (inventory.Package, bool) {
	pu, err := packageurl.FromString(s)
	if err != nil {
		return inventory.Package{}, false
	}
	typ, ok := purlTypes[pu.Type]
	if !ok || pu.Version == "" {
		return inventory.Package{}, false
	}
	q := pu.Qualifiers.Map()
	p := inventory.Package{Type: typ, Name: pu.Name, Version: pu.Version, Arch: q["arch"], PURL: s, FoundBy: "sbom"}
	switch typ {
	case "maven":
		if pu.Namespace != "" {
			p.Name = pu.Namespace + ":" + pu.Name
		}
	case "npm", "golang", "composer":
		if pu.Namespace != "" {
			p.Name = pu.Namespace + "/" + pu.Name
		}
	case inventory.TypeDeb:
		// Trivy writes the epoch as a qualifier, Syft and bulkhead inside
		// the version: advisories compare the full dpkg version.
		if e := q["epoch"]; e != "" && e != "0" && !strings.Contains(p.Version, ":") {
			p.Version = e + ":" + p.Version
		}
	case inventory.TypeRPM:
		if e, err := strconv.Atoi(q["epoch"]); err == nil {
			p.Epoch = e
		}
	}
	p.Source = source(p, q, props)
	p.Locations = locations(props)
	return p, true
}

func source(p inventory.Package, q, props map[string]string) *inventory.Source {
	name, ver := props["bulkhead:package:source:name"], props["bulkhead:package:source:version"]
	if name == "" {
		if n := props["aquasecurity:trivy:SrcName"]; n != "" {
			name, ver = n, props["aquasecurity:trivy:SrcVersion"]
			if r := props["aquasecurity:trivy:SrcRelease"]; r != "" {
				ver += "-" + r
			}
			if e := props["aquasecurity:trivy:SrcEpoch"]; e != "" && e != "0" && p.Type == inventory.TypeDeb {
				ver = e + ":" + ver
			}
		}
	}
	if name == "" {
		if u := q["upstream"]; u != "" {
			// Syft: upstream=NAME or NAME@VERSION.
			name, ver, _ = strings.Cut(u, "@")
		}
	}
	if name == "" {
		if p.Type == inventory.TypeDeb || p.Type == inventory.TypeApk || p.Type == inventory.TypeRPM {
			return &inventory.Source{Name: p.Name, Version: p.Version}
		}
		return nil
	}
	if ver == "" {
		ver = p.Version
	}
	return &inventory.Source{Name: name, Version: ver}
}

func locations(props map[string]string) []inventory.Location {
	var out []inventory.Location
	for i := 0; i < 64; i++ {
		pre := "bulkhead:location:" + strconv.Itoa(i) + ":"
		path, ok := props[pre+"path"]
		if !ok {
			break
		}
		l := inventory.Location{Path: path, LayerDiffID: props[pre+"layerDiffID"], CreatedBy: props[pre+"createdBy"], LayerIndex: inventory.NoLayer}
		if n, err := strconv.Atoi(props[pre+"layerIndex"]); err == nil {
			l.LayerIndex = n
		}
		out = append(out, l)
	}
	if len(out) > 0 {
		return out
	}
	if p := props["syft:location:0:path"]; p != "" {
		return []inventory.Location{{Path: p, LayerDiffID: props["syft:location:0:layerID"], LayerIndex: inventory.NoLayer}}
	}
	if d := props["aquasecurity:trivy:LayerDiffID"]; d != "" {
		return []inventory.Location{{Path: props["aquasecurity:trivy:FilePath"], LayerDiffID: d, LayerIndex: inventory.NoLayer}}
	}
	return []inventory.Location{{LayerIndex: inventory.NoLayer}}
}

// osFromPURLs recovers the OS from the distro qualifier of OS packages
// ("debian-12", "alpine-3.20.3") when the document names no OS.
func osFromPURLs(pkgs []inventory.Package) *inventory.OS {
	for _, p := range pkgs {
		if p.Type != inventory.TypeDeb && p.Type != inventory.TypeApk && p.Type != inventory.TypeRPM {
			continue
		}
		pu, err := packageurl.FromString(p.PURL)
		if err != nil {
			continue
		}
		d := pu.Qualifiers.Map()["distro"]
		if d == "" {
			continue
		}
		id, ver, _ := strings.Cut(d, "-")
		if id == "" || ver == "" {
			continue
		}
		return &inventory.OS{ID: id, VersionID: ver, Name: d}
	}
	return nil
}
