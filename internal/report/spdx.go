package report

import (
	"encoding/hex"
	"hash/fnv"
	"io"
	"net/url"
	"strconv"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

const (
	noAssertion = "NOASSERTION"

	// spdxNamespaceBase starts every document namespace; the namespace need
	// not resolve, only be unique (SPDX 2.3 section 6.5).
	spdxNamespaceBase = "https://bulkhead-sec.github.io/bulkhead/spdx/"

	// Values of primaryPackagePurpose (SPDX 2.3 section 7.24). The spec's
	// text spells the OS value "OPERATING-SYSTEM", its JSON schema only
	// accepts "OPERATING_SYSTEM"; the SPDX maintainers call the schema the
	// authority for JSON (spdx/spdx-spec#813), and schema validators
	// (NexusIQ, cyclonedx-cli's converter) reject the dash.
	purposeContainer = "CONTAINER"
	purposeSource    = "SOURCE"
	purposeOS        = "OPERATING_SYSTEM"
	purposeLibrary   = "LIBRARY"
)

func writeSPDX(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	return spdxjson.Write(spdxDocument(inv, opts), w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

func spdxDocument(inv *inventory.Inventory, opts *Options) *v2_3.Document {
	a := &inv.Artifact
	name := artifactName(a)
	ids := newRefSet()

	root := spdxArtifact(a, ids)
	pkgs := sortedPackages(inv.Packages)
	doc := &v2_3.Document{
		SPDXVersion:       v2_3.Version,
		DataLicense:       v2_3.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: spdxNamespaceBase + artifactKind(a) + "/" + url.PathEscape(name) + "-" + opts.UUID(),
		CreationInfo: &v2_3.CreationInfo{
			Creators: []common.Creator{
				{CreatorType: "Organization", Creator: "bulkhead"},
				{CreatorType: "Tool", Creator: "bulkhead-" + opts.ToolVersion},
			},
			Created: opts.timestamp(),
		},
		Packages:      make([]*v2_3.Package, 0, len(pkgs)+2),
		Relationships: make([]*v2_3.Relationship, 0, len(pkgs)+2),
	}
	if len(inv.Warnings) > 0 {
		ws := make([]string, len(inv.Warnings))
		for i, w := range inv.Warnings {
			ws[i] = w.String()
		}
		doc.DocumentComment = "The scan had warnings; packages may be missing:\n" + strings.Join(ws, "\n")
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships,
		spdxRelationship("DOCUMENT", common.TypeRelationshipDescribe, root.PackageSPDXIdentifier))
	if inv.OS != nil {
		p := spdxOS(inv.OS, ids)
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships,
			spdxRelationship(root.PackageSPDXIdentifier, common.TypeRelationshipContains, p.PackageSPDXIdentifier))
	}
	for _, pkg := range pkgs {
		p := spdxPackage(pkg, ids)
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships,
			spdxRelationship(root.PackageSPDXIdentifier, common.TypeRelationshipContains, p.PackageSPDXIdentifier))
	}
	return doc
}

func artifactKind(a *inventory.Artifact) string {
	if isImage(a) {
		return "image"
	}
	return "filesystem"
}

func spdxArtifact(a *inventory.Artifact, ids *refSet) *v2_3.Package {
	p := &v2_3.Package{
		PackageName:             artifactName(a),
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PrimaryPackagePurpose:   purposeSource,
	}
	kind := "Filesystem"
	if isImage(a) {
		kind = "Image"
		p.PrimaryPackagePurpose = purposeContainer
		p.PackageVersion = artifactDigest(a)
		if purl := artifactPURL(a); purl != "" {
			p.PackageExternalReferences = []*v2_3.PackageExternalReference{purlRef(purl)}
		}
	}
	p.PackageSPDXIdentifier = common.ElementID(ids.add("DocumentRoot-" + kind + "-" + spdxIDString(p.PackageName)))
	return p
}

func spdxOS(o *inventory.OS, ids *refSet) *v2_3.Package {
	p := &v2_3.Package{
		PackageName:             o.ID,
		PackageVersion:          o.VersionID,
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageDescription:      o.Name,
		PrimaryPackagePurpose:   purposeOS,
	}
	if o.Location.Path != "" {
		p.PackageSourceInfo = "found in " + describeLocation(o.Location)
	}
	id := "OperatingSystem-" + spdxIDString(o.ID)
	if o.VersionID != "" {
		id += "-" + spdxIDString(o.VersionID)
	}
	p.PackageSPDXIdentifier = common.ElementID(ids.add(id))
	return p
}

func spdxPackage(pkg *inventory.Package, ids *refSet) *v2_3.Package {
	p := &v2_3.Package{
		PackageName:             pkg.Name,
		PackageVersion:          packageVersion(pkg),
		PackageSupplier:         spdxSupplier(pkg.Maintainer),
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageSourceInfo:       spdxSourceInfo(pkg),
		PrimaryPackagePurpose:   purposeLibrary,
	}
	if expr, ok := joinLicenses(pkg.Licenses); ok {
		p.PackageLicenseDeclared = expr
	} else if ls := cleanLicenses(pkg.Licenses); len(ls) > 0 {
		p.PackageLicenseComments = "licences declared by the package, not all SPDX: " + strings.Join(ls, ", ")
	}
	if pkg.Source != nil && pkg.Source.Name != "" {
		p.PackageComment = "source package: " + strings.TrimSpace(pkg.Source.Name+" "+pkg.Source.Version)
	}
	if pkg.PURL != "" {
		p.PackageExternalReferences = []*v2_3.PackageExternalReference{purlRef(pkg.PURL)}
		for _, o := range pkg.OtherPURLs {
			// The same software in another ecosystem (Debian's
			// python3-requests is also pkg:pypi/requests); the first purl
			// stays the package's own.
			p.PackageExternalReferences = append(p.PackageExternalReferences, purlRef(o))
		}
	}
	id := "Package-" + spdxIDString(pkg.Type) + "-" + spdxIDString(pkg.Name) + "-" + packageHash(pkg)
	p.PackageSPDXIdentifier = common.ElementID(ids.add(id))
	return p
}

func purlRef(purl string) *v2_3.PackageExternalReference {
	return &v2_3.PackageExternalReference{
		Category: common.CategoryPackageManager,
		RefType:  common.TypePackageManagerPURL,
		Locator:  purl,
	}
}

func spdxRelationship(a common.ElementID, typ string, b common.ElementID) *v2_3.Relationship {
	return &v2_3.Relationship{
		RefA:         common.DocElementID{ElementRefID: a},
		RefB:         common.DocElementID{ElementRefID: b},
		Relationship: typ,
	}
}

// packageHash is a short stable hash of what identifies a package; it keeps
// SPDX ids unique when names collide after sanitising, and the same across
// scans of the same package.
func packageHash(p *inventory.Package) string {
	h := fnv.New64a()
	for _, s := range []string{p.Type, p.Name, p.Version, p.Arch, strconv.Itoa(p.Epoch), p.PURL} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// spdxIDString replaces every character an SPDX id may not hold (anything
// but letters, digits, "." and "-") with "-".
func spdxIDString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// spdxSourceInfo says where the package was found: analyzer, path, layer.
func spdxSourceInfo(p *inventory.Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	var b strings.Builder
	if p.FoundBy != "" {
		b.WriteString("found by " + p.FoundBy + " in ")
	} else {
		b.WriteString("found in ")
	}
	for i, l := range p.Locations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(describeLocation(l))
	}
	return b.String()
}

func describeLocation(l inventory.Location) string {
	if l.LayerIndex == inventory.NoLayer {
		return l.Path
	}
	s := l.Path + " (layer " + strconv.Itoa(l.LayerIndex)
	if l.LayerDiffID != "" {
		s += " " + l.LayerDiffID
	}
	return s + ")"
}

// spdxSupplier turns a maintainer ("Name <email>") into an SPDX supplier,
// "Person: Name (email)" or "Organization: Name (email)".
func spdxSupplier(maintainer string) *common.Supplier {
	m := strings.TrimSpace(maintainer)
	if m == "" {
		return &common.Supplier{Supplier: noAssertion}
	}
	name, email := m, ""
	if i := strings.LastIndexByte(m, '<'); i >= 0 && strings.HasSuffix(m, ">") {
		name, email = strings.TrimSpace(m[:i]), strings.TrimSpace(m[i+1:len(m)-1])
	}
	s := name
	switch {
	case name == "":
		s = email
	case email != "":
		s += " (" + email + ")"
	}
	typ := "Person"
	if isOrganization(name, email) {
		typ = "Organization"
	}
	return &common.Supplier{SupplierType: typ, Supplier: s}
}

// orgWords mark a maintainer that is a team or company, not a person:
// "GNU Libc Maintainers", "Ubuntu Developers", "Red Hat, Inc.".
var orgWords = map[string]bool{
	"maintainers": true, "team": true, "project": true, "developers": true, "packagers": true,
	"foundation": true, "community": true, "group": true, "inc": true, "ltd": true, "llc": true,
	"gmbh": true, "corp": true, "corporation": true, "company": true,
}

func isOrganization(name, email string) bool {
	if strings.Contains(email, "@lists.") {
		return true
	}
	for w := range strings.FieldsFuncSeq(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if orgWords[w] {
			return true
		}
	}
	return false
}
