package report

import (
	"cmp"
	"io"
	"strconv"
	"strings"

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
	propPrivate       = "bulkhead:package:private"
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

	propVulnTitle        = "bulkhead:vulnerability:title"
	propVulnStatus       = "bulkhead:vulnerability:status"
	propVulnMatchedRange = "bulkhead:vulnerability:matchedRange"
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
	pkgComps := make([]int, len(pkgs)) // index in comps of each package
	for i, p := range pkgs {
		c := cdxPackage(p, refs)
		pkgComps[i] = len(comps)
		comps = append(comps, c)
		dependsOn = append(dependsOn, c.BOMRef)
	}

	// Findings, when the vulnerability scanner ran: an empty list says it
	// found nothing.
	if inv.Vulnerabilities != nil {
		lookup := newPkgLookup(pkgs)
		missing := map[string]int{} // index in comps of packages the inventory lacks
		vulns := make([]cdx.Vulnerability, 0, len(inv.Vulnerabilities))
		for _, v := range sortedVulns(inv.Vulnerabilities) {
			var at int
			if i := lookup.find(v); i >= 0 {
				at = pkgComps[i]
			} else {
				// A finding on a package the inventory lacks: give the
				// package a component, so that affects never dangles.
				k := lookupKey(v.Package.PURL, v.Package.Type, v.Package.Name, v.Package.Version)
				var ok bool
				if at, ok = missing[k]; !ok {
					at = len(comps)
					missing[k] = at
					comps = append(comps, cdxVulnPackage(&v.Package, refs))
					dependsOn = append(dependsOn, comps[at].BOMRef)
				}
			}
			vulns = append(vulns, cdxVulnerability(v, &comps[at]))
		}
		bom.Vulnerabilities = &vulns
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
	if p.Dev {
		// CycloneDX's way to say "not needed at runtime".
		c.Scope = cdx.ScopeOptional
	}
	if len(p.OtherPURLs) > 0 {
		// The same software's identifier in another ecosystem (Debian's
		// python3-requests is also pkg:pypi/requests), found from the
		// language package's own metadata at a path this package owns.
		ids := make([]cdx.EvidenceIdentity, 0, len(p.OtherPURLs))
		for _, o := range p.OtherPURLs {
			ids = append(ids, cdx.EvidenceIdentity{
				Field:          cdx.EvidenceIdentityFieldTypePURL,
				ConcludedValue: o,
				Methods:        &[]cdx.EvidenceIdentityMethod{{Technique: cdx.EvidenceIdentityTechniqueManifestAnalysis, Confidence: &confident}},
			})
		}
		c.Evidence = &cdx.Evidence{Identity: &cdx.EvidenceIdentityChoice{Identities: &ids}}
	}

	props := make([]cdx.Property, 0, 4+4*len(p.Locations))
	props = append(props, cdx.Property{Name: propPackageType, Value: p.Type})
	if p.FoundBy != "" {
		props = append(props, cdx.Property{Name: propFoundBy, Value: p.FoundBy})
	}
	if p.Private {
		props = append(props, cdx.Property{Name: propPrivate, Value: "true"})
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

// confident is the confidence of an identity read from the package's own
// metadata.
var confident float32 = 1

// cdxVulnPackage is a component for a finding's package.
func cdxVulnPackage(p *inventory.VulnPackage, refs *refSet) cdx.Component {
	ref := p.PURL
	if ref == "" {
		ref = "bulkhead:package:" + p.Type + "/" + p.Name + "@" + p.Version
	}
	return cdx.Component{
		BOMRef:     refs.add(ref),
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: p.PURL,
		Properties: &[]cdx.Property{{Name: propPackageType, Value: p.Type}},
	}
}

// cdxVulnerability is one finding on component c: the advisory source of
// its id, its aliases as references, a rating per CVSS vector (or one with
// only the severity when there is none), the fix as a recommendation and
// the references as advisories. Analysis is left to VEX.
func cdxVulnerability(v *inventory.Vulnerability, c *cdx.Component) cdx.Vulnerability {
	name, url := advisorySource(v.ID)
	out := cdx.Vulnerability{
		ID:          v.ID,
		Source:      &cdx.Source{Name: name, URL: url},
		Description: cmp.Or(v.Description, v.Title),
		Published:   v.Published,
		Updated:     v.Modified,
		Affects: &[]cdx.Affects{{
			Ref:   c.BOMRef,
			Range: &[]cdx.AffectedVersions{{Version: c.Version, Status: cdx.VulnerabilityStatusAffected}},
		}},
	}
	if len(v.Aliases) > 0 {
		refs := make([]cdx.VulnerabilityReference, 0, len(v.Aliases))
		for _, a := range v.Aliases {
			name, url := advisorySource(a)
			refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: &cdx.Source{Name: name, URL: url}})
		}
		out.References = &refs
	}
	out.Ratings = cdxRatings(v)
	if v.FixedVersion != "" {
		out.Recommendation = "Upgrade " + v.Package.Name + " to " + v.FixedVersion
	}
	if len(v.References) > 0 {
		advisories := make([]cdx.Advisory, 0, len(v.References))
		for _, r := range v.References {
			advisories = append(advisories, cdx.Advisory{URL: r})
		}
		out.Advisories = &advisories
	}
	var props []cdx.Property
	if v.Title != "" {
		props = append(props, cdx.Property{Name: propVulnTitle, Value: v.Title})
	}
	if v.Status != "" {
		props = append(props, cdx.Property{Name: propVulnStatus, Value: v.Status})
	}
	if v.MatchedRange != "" {
		props = append(props, cdx.Property{Name: propVulnMatchedRange, Value: v.MatchedRange})
	}
	if len(props) > 0 {
		out.Properties = &props
	}
	return out
}

// cdxRatings rates a finding once per distinct CVSS vector, with the
// vector's own score and qualitative severity; a finding without vectors
// gets one rating that carries only its severity.
func cdxRatings(v *inventory.Vulnerability) *[]cdx.VulnerabilityRating {
	ratings := make([]cdx.VulnerabilityRating, 0, len(v.CVSS))
	seen := make(map[inventory.CVSS]bool, len(v.CVSS))
	for _, c := range v.CVSS {
		if c.Vector == "" || seen[c] {
			continue
		}
		seen[c] = true
		r := cdx.VulnerabilityRating{
			Score:    &c.Score,
			Severity: cvssSeverity(c.Score),
			Method:   cvssMethod(c.Version),
			Vector:   c.Vector,
		}
		if c.Source != "" {
			name, url := advisorySource(c.Source)
			r.Source = &cdx.Source{Name: name, URL: url}
		}
		ratings = append(ratings, r)
	}
	if len(ratings) == 0 {
		r := cdx.VulnerabilityRating{Severity: cdxSeverity(v.Severity)}
		if v.SeveritySource != "" {
			r.Justification = "severity from " + v.SeveritySource
		}
		ratings = append(ratings, r)
	}
	return &ratings
}

func cvssMethod(version string) cdx.ScoringMethod {
	switch {
	case version == "3.1":
		return cdx.ScoringMethodCVSSv31
	case strings.HasPrefix(version, "3"):
		return cdx.ScoringMethodCVSSv3
	case strings.HasPrefix(version, "4"):
		return cdx.ScoringMethodCVSSv4
	case strings.HasPrefix(version, "2"):
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

// cvssSeverity is the CVSS v3/v4 qualitative rating of a score.
func cvssSeverity(score float64) cdx.Severity {
	switch {
	case score >= 9:
		return cdx.SeverityCritical
	case score >= 7:
		return cdx.SeverityHigh
	case score >= 4:
		return cdx.SeverityMedium
	case score > 0:
		return cdx.SeverityLow
	}
	return cdx.SeverityNone
}

func cdxSeverity(s string) cdx.Severity {
	switch severityName(s) {
	case inventory.SeverityCritical:
		return cdx.SeverityCritical
	case inventory.SeverityHigh:
		return cdx.SeverityHigh
	case inventory.SeverityMedium:
		return cdx.SeverityMedium
	case inventory.SeverityLow:
		return cdx.SeverityLow
	}
	return cdx.SeverityUnknown
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
