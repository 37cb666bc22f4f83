package report

import (
	"io"
	"strconv"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// cdxSchema1_6 is the $schema of a CycloneDX 1.6 JSON BOM. cdx.NewBOM
// starts at the library's newest version (1.7) and EncodeVersion converts
// through a gob copy of the whole BOM, so the BOM is built as 1.6 directly.
const cdxSchema1_6 = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// Property names, in the bulkhead namespace
// (https://cyclonedx.org/docs/1.6/json/#components_items_properties).
const (
	propPackageType   = "bulkhead:package:type"
	propFoundBy       = "bulkhead:package:foundBy"
	propSourceName    = "bulkhead:package:source:name"
	propSourceVersion = "bulkhead:package:source:version"
	propLocation      = "bulkhead:location:" // + N + ":path" etc.
	propImageArch     = "bulkhead:image:architecture"
	propImageConfig   = "bulkhead:image:configDigest"
	propImageTag      = "bulkhead:image:repoTag"
	propImageRepoDig  = "bulkhead:image:repoDigest"
	propImageLayer    = "bulkhead:image:layer:" // + N + ":diffID"
	propOSCodename    = "bulkhead:os:codename"
	propWarning       = "bulkhead:warning"
)

func writeCycloneDX(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	bom := cycloneDXBOM(inv, opts)
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	return enc.Encode(bom)
}

func cycloneDXBOM(inv *inventory.Inventory, opts *Options) *cdx.BOM {
	refs := newRefSet()
	root := cdxArtifact(&inv.Artifact, refs)
	bom := &cdx.BOM{
		JSONSchema:   cdxSchema1_6,
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_6,
		SerialNumber: "urn:uuid:" + opts.UUID(),
		Version:      1,
		Metadata: &cdx.Metadata{
			Timestamp: opts.timestamp(),
			Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
				Type:      cdx.ComponentTypeApplication,
				Publisher: "bulkhead",
				Name:      "bulkhead",
				Version:   opts.ToolVersion,
			}}},
			Component: root,
		},
	}

	pkgs := sortedPackages(inv.Packages)
	comps := make([]cdx.Component, 0, len(pkgs)+1)
	dependsOn := make([]string, 0, len(pkgs)+1)
	if inv.OS != nil {
		c := cdxOS(inv.OS, refs)
		comps = append(comps, c)
		dependsOn = append(dependsOn, c.BOMRef)
	}
	for _, p := range pkgs {
		c := cdxPackage(p, refs)
		comps = append(comps, c)
		dependsOn = append(dependsOn, c.BOMRef)
	}
	if len(comps) > 0 {
		bom.Components = &comps
		bom.Dependencies = &[]cdx.Dependency{{Ref: root.BOMRef, Dependencies: &dependsOn}}
	}

	// A scan with warnings may have missed packages: say so in a way tools
	// understand (an incomplete composition of the artifact) and people can
	// read (the warnings).
	if len(inv.Warnings) > 0 {
		props := make([]cdx.Property, 0, len(inv.Warnings))
		for _, w := range inv.Warnings {
			props = append(props, cdx.Property{Name: propWarning, Value: w.String()})
		}
		bom.Metadata.Properties = &props
		bom.Compositions = &[]cdx.Composition{{
			Aggregate:  cdx.CompositionAggregateIncomplete,
			Assemblies: &[]cdx.BOMReference{cdx.BOMReference(root.BOMRef)},
		}}
	}
	return bom
}

func cdxArtifact(a *inventory.Artifact, refs *refSet) *cdx.Component {
	c := &cdx.Component{Name: artifactName(a)}
	if !isImage(a) {
		c.Type = cdx.ComponentTypeFile
		c.BOMRef = refs.add("bulkhead:artifact:" + c.Name)
		return c
	}
	c.Type = cdx.ComponentTypeContainer
	c.Version = artifactDigest(a)
	c.PackageURL = artifactPURL(a)
	ref := c.PackageURL
	if ref == "" {
		ref = "bulkhead:artifact:" + c.Name
	}
	c.BOMRef = refs.add(ref)

	var props []cdx.Property
	if a.Architecture != "" {
		props = append(props, cdx.Property{Name: propImageArch, Value: a.Architecture})
	}
	if a.ConfigDigest != "" && a.ConfigDigest != c.Version {
		props = append(props, cdx.Property{Name: propImageConfig, Value: a.ConfigDigest})
	}
	for _, t := range a.RepoTags {
		props = append(props, cdx.Property{Name: propImageTag, Value: t})
	}
	for _, d := range a.RepoDigests {
		props = append(props, cdx.Property{Name: propImageRepoDig, Value: d})
	}
	for _, l := range a.Layers {
		props = append(props, cdx.Property{Name: propImageLayer + strconv.Itoa(l.Index) + ":diffID", Value: l.DiffID})
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func cdxOS(o *inventory.OS, refs *refSet) cdx.Component {
	c := cdx.Component{
		Type:        cdx.ComponentTypeOS,
		Name:        o.ID,
		Version:     o.VersionID,
		Description: o.Name,
	}
	ref := "bulkhead:os:" + o.ID
	if o.VersionID != "" {
		ref += "@" + o.VersionID
	}
	c.BOMRef = refs.add(ref)
	if o.Codename != "" {
		c.Properties = &[]cdx.Property{{Name: propOSCodename, Value: o.Codename}}
	}
	return c
}

func cdxPackage(p *inventory.Package, refs *refSet) cdx.Component {
	c := cdx.Component{
		Type:       cdx.ComponentTypeLibrary,
		Publisher:  p.Maintainer,
		Name:       p.Name,
		Version:    packageVersion(p),
		PackageURL: p.PURL,
		Licenses:   cdxLicenses(p.Licenses),
	}
	ref := p.PURL
	if ref == "" {
		ref = "bulkhead:package:" + p.Type + "/" + p.Name + "@" + c.Version
	}
	c.BOMRef = refs.add(ref)

	props := make([]cdx.Property, 0, 4+4*len(p.Locations))
	props = append(props, cdx.Property{Name: propPackageType, Value: p.Type})
	if p.FoundBy != "" {
		props = append(props, cdx.Property{Name: propFoundBy, Value: p.FoundBy})
	}
	if p.Source != nil {
		if p.Source.Name != "" {
			props = append(props, cdx.Property{Name: propSourceName, Value: p.Source.Name})
		}
		if p.Source.Version != "" {
			props = append(props, cdx.Property{Name: propSourceVersion, Value: p.Source.Version})
		}
	}
	for i, l := range p.Locations {
		prefix := propLocation + strconv.Itoa(i) + ":"
		props = append(props, cdx.Property{Name: prefix + "path", Value: l.Path})
		if l.LayerDiffID != "" {
			props = append(props, cdx.Property{Name: prefix + "layerDiffID", Value: l.LayerDiffID})
		}
		if l.LayerIndex != inventory.NoLayer {
			props = append(props, cdx.Property{Name: prefix + "layerIndex", Value: strconv.Itoa(l.LayerIndex)})
		}
		if l.CreatedBy != "" {
			props = append(props, cdx.Property{Name: prefix + "createdBy", Value: l.CreatedBy})
		}
	}
	c.Properties = &props
	return c
}

// cdxLicenses maps a package's licence strings to CycloneDX. CycloneDX 1.6
// accepts either a list of licences (SPDX id or free-text name) or exactly
// one SPDX expression, never both; so compound expressions are ANDed into
// one expression when every string is SPDX, and kept as names otherwise.
func cdxLicenses(ls []string) *cdx.Licenses {
	ls = cleanLicenses(ls)
	if len(ls) == 0 {
		return nil
	}
	out := make(cdx.Licenses, 0, len(ls))
	hasExpression := false
	for _, l := range ls {
		c, kind := classifyLicense(l)
		switch kind {
		case licenseID:
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: c}})
		case licenseExpression:
			hasExpression = true
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: c}})
		default:
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: c}})
		}
	}
	if hasExpression {
		if expr, ok := joinLicenses(ls); ok {
			return &cdx.Licenses{{Expression: expr}}
		}
	}
	return &out
}

// refSet hands out unique references: the first use of a candidate gets
// it as is, later ones a "-2", "-3", ... suffix.
type refSet struct {
	used map[string]bool
}

func newRefSet() *refSet {
	return &refSet{used: make(map[string]bool)}
}

func (s *refSet) add(candidate string) string {
	ref := candidate
	for n := 2; s.used[ref]; n++ {
		ref = candidate + "-" + strconv.Itoa(n)
	}
	s.used[ref] = true
	return ref
}
