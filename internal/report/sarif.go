package report

import (
	"cmp"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// SARIF 2.1.0, shaped for GitHub code scanning
// (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
// one rule per vulnerability id and per secret rule, one result per
// finding, one rule per misconfiguration check; security-severity on a rule is what GitHub ranks alerts by.
//
// Results point at the file the package or secret was found in, relative
// to the image root, with a region, which GitHub needs to place an alert:
// line 1 for a package database, the line of a secret. The layer is a
// logical location and, with the instruction that created it, a result
// property.

const (
	sarifInformationURI = "https://github.com/bulkhead-sec/bulkhead"
	sarifSecretRule     = "secret/" // + the secret rule's id
)

func writeSARIF(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	// Encoded here, not with the library's PrettyWrite, which escapes the
	// <, > and & that advisory titles are full of.
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	report, err := sarifReport(inv, opts)
	if err != nil {
		return err
	}
	return enc.Encode(report)
}

func sarifReport(inv *inventory.Inventory, opts *Options) (*sarif.Report, error) {
	driver := sarif.NewVersionedDriver("bulkhead", opts.ToolVersion).WithInformationURI(sarifInformationURI)
	run := sarif.NewRun(sarif.Tool{Driver: driver})
	run.Properties = sarifArtifactProperties(&inv.Artifact)

	// Warnings say the scan may have missed something.
	invocation := sarif.NewInvocation().WithExecutionSuccess(true)
	for _, w := range inv.Warnings {
		n := sarif.NewNotification()
		n.Level = "warning"
		n.Message = sarif.NewTextMessage(w.String())
		invocation.ToolExecutionNotifications = append(invocation.ToolExecutionNotifications, n)
	}
	run.Invocations = []*sarif.Invocation{invocation}

	vulns := sortedVulns(inv.Vulnerabilities)
	secrets := sortedSecrets(inv.Secrets)
	misconfigs := sortedMisconfigs(inv.Misconfigurations)
	rules := append(sarifRules(vulns, secrets), sarifMisconfigRules(misconfigs)...)
	if len(inv.Malware) > 0 {
		rules = append(rules, sarifMalwareRule())
	}
	index := make(map[string]int, len(rules))
	for i, r := range rules {
		index[r.ID] = i
	}
	driver.Rules = rules

	// The library's AddResult looks the rule up by a linear search, which
	// is quadratic over thousands of findings: results are appended here
	// with the index already known.
	run.Results = make([]*sarif.Result, 0, len(vulns)+len(secrets)+len(misconfigs))
	for _, v := range vulns {
		run.Results = append(run.Results, sarifVulnResult(v, &inv.Artifact).WithRuleIndex(index[v.ID]))
	}
	for _, s := range secrets {
		run.Results = append(run.Results, sarifSecretResult(s, &inv.Artifact).WithRuleIndex(index[sarifSecretRule+s.RuleID]))
	}
	for _, m := range misconfigs {
		run.Results = append(run.Results, sarifMisconfigResult(m, &inv.Artifact).WithRuleIndex(index[m.ID]))
	}
	for i := range inv.Malware {
		run.Results = append(run.Results, sarifMalwareResult(&inv.Malware[i], &inv.Artifact).WithRuleIndex(index[sarifMalwareRuleID]))
	}

	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	report.AddRun(run)
	return report, nil
}

// sarifRules makes one rule per vulnerability id, then one per secret
// rule, each sorted by id.
func sarifRules(vulns []*inventory.Vulnerability, secrets []*inventory.Secret) []*sarif.ReportingDescriptor {
	byID := map[string][]*inventory.Vulnerability{}
	var ids []string
	for _, v := range vulns {
		if _, ok := byID[v.ID]; !ok {
			ids = append(ids, v.ID)
		}
		byID[v.ID] = append(byID[v.ID], v)
	}
	slices.Sort(ids)
	bySecretRule := map[string][]*inventory.Secret{}
	var secretRules []string
	for _, s := range secrets {
		id := sarifSecretRule + s.RuleID
		if _, ok := bySecretRule[id]; !ok {
			secretRules = append(secretRules, id)
		}
		bySecretRule[id] = append(bySecretRule[id], s)
	}
	slices.Sort(secretRules)

	rules := make([]*sarif.ReportingDescriptor, 0, len(ids)+len(secretRules))
	for _, id := range ids {
		rules = append(rules, sarifVulnRule(id, byID[id]))
	}
	for _, id := range secretRules {
		rules = append(rules, sarifSecretRuleFor(id, bySecretRule[id]))
	}
	return rules
}

// sarifVulnRule describes a vulnerability id from its findings (one per
// affected package): title and description of the first, the worst
// severity and highest CVSS score of all.
func sarifVulnRule(id string, vs []*inventory.Vulnerability) *sarif.ReportingDescriptor {
	first := vs[0]
	worst := first.Severity
	var score *inventory.CVSS
	for _, v := range vs {
		if inventory.SeverityRank(v.Severity) > inventory.SeverityRank(worst) {
			worst = v.Severity
		}
		if c, ok := primaryCVSS(v); ok && (score == nil || c.Score > score.Score) {
			score = &c
		}
	}
	worst = severityName(worst)

	title := firstNonEmpty(vs, func(v *inventory.Vulnerability) string { return v.Title })
	description := firstNonEmpty(vs, func(v *inventory.Vulnerability) string { return v.Description })
	_, helpURI := advisorySource(id)

	var help strings.Builder
	help.WriteString(id)
	if title != "" {
		help.WriteString(": " + title)
	}
	help.WriteString("\nSeverity: " + worst)
	if score != nil {
		help.WriteString(" (CVSS " + score.Version + " " + formatScore(score.Score) + ")")
	}
	if description != "" {
		help.WriteString("\n\n" + description)
	}
	// The same package at two locations needs saying once.
	fixes := make([]string, 0, len(vs))
	for _, v := range vs {
		fix := inventory.StatusNoFix
		if v.FixedVersion != "" {
			fix = "upgrade to " + v.FixedVersion
		}
		fixes = append(fixes, "\n- "+v.Package.Name+" "+v.Package.Version+": "+fix)
	}
	help.WriteString("\n\nFix:")
	for _, f := range slices.Compact(fixes) {
		help.WriteString(f)
	}
	var refs []string
	for _, v := range vs {
		refs = append(refs, v.References...)
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	if len(refs) > 0 {
		help.WriteString("\n\nReferences:")
		for _, r := range refs {
			help.WriteString("\n- " + r)
		}
	}

	props := sarif.Properties{"tags": []string{"vulnerability", "security", worst}}
	if score != nil {
		props["security-severity"] = formatScore(score.Score)
	}
	rule := sarif.NewRule(id).
		WithShortDescription(sarif.NewMultiformatMessageString(cmp.Or(title, id))).
		WithTextHelp(help.String()).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(worst))).
		WithProperties(props)
	if description != "" {
		rule.WithFullDescription(sarif.NewMultiformatMessageString(description))
	}
	if validURI(helpURI) {
		rule.WithHelpURI(helpURI)
	}
	return rule
}

func sarifSecretRuleFor(id string, ss []*inventory.Secret) *sarif.ReportingDescriptor {
	worst := ss[0].Severity
	for _, s := range ss {
		if inventory.SeverityRank(s.Severity) > inventory.SeverityRank(worst) {
			worst = s.Severity
		}
	}
	worst = severityName(worst)
	title := cmp.Or(ss[0].Title, ss[0].RuleID)
	tags := []string{"secret", "security", worst}
	if c := ss[0].Category; c != "" {
		tags = append(tags, c)
	}
	help := title + " found in the image.\nSeverity: " + worst +
		"\n\nRevoke and rotate the credential. Deleting the file in a later layer does not" +
		" remove it from the image: every layer ships, so rebuild the image without it."
	return sarif.NewRule(id).
		WithShortDescription(sarif.NewMultiformatMessageString(title)).
		WithTextHelp(help).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(worst))).
		WithProperties(sarif.Properties{"tags": tags})
}

// sarifMisconfigRules makes one rule per misconfiguration check id, sorted
// by id. Check ids (BH-DF-001) cannot collide with advisory ids or the
// "secret/" rules.
func sarifMisconfigRules(ms []*misconfig.Finding) []*sarif.ReportingDescriptor {
	first := map[string]*misconfig.Finding{}
	var ids []string
	for _, m := range ms {
		if _, ok := first[m.ID]; !ok {
			first[m.ID] = m
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	rules := make([]*sarif.ReportingDescriptor, 0, len(ids))
	for _, id := range ids {
		rules = append(rules, sarifMisconfigRule(first[id]))
	}
	return rules
}

// sarifMisconfigRule describes a check from the catalogue; a check the
// catalogue lacks (a report from a newer bulkhead) from its finding. The
// rule carries the check's general fix, not one written for a finding.
func sarifMisconfigRule(m *misconfig.Finding) *sarif.ReportingDescriptor {
	c, ok := misconfig.Lookup(m.ID)
	if !ok {
		c = misconfig.Check{ID: m.ID, Type: m.Type, Severity: m.Severity, Title: m.Title,
			Why: m.Why, Fix: m.Fix, References: m.References}
	}
	severity := severityName(c.Severity)
	title := cmp.Or(c.Title, c.ID)

	var text, md strings.Builder
	text.WriteString(c.ID + ": " + title + "\nSeverity: " + severity)
	md.WriteString("**" + c.ID + ": " + title + "**\n\nSeverity: " + severity)
	if c.Why != "" {
		text.WriteString("\n\n" + c.Why)
		md.WriteString("\n\n" + c.Why)
	}
	if c.Fix != "" {
		text.WriteString("\n\nFix: " + c.Fix)
		// Markdown joins lines; a fix's lines (often the corrected
		// instructions) are kept as hard line breaks.
		md.WriteString("\n\n**Fix:** " + strings.ReplaceAll(c.Fix, "\n", "  \n"))
	}
	if len(c.References) > 0 {
		text.WriteString("\n\nReferences:")
		md.WriteString("\n\n**References:**\n")
		for _, r := range c.References {
			text.WriteString("\n- " + r)
			if strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://") {
				md.WriteString("\n- <" + r + ">")
			} else {
				md.WriteString("\n- " + r)
			}
		}
	}

	tags := []string{"misconfiguration"}
	if c.Type != "" {
		tags = append(tags, c.Type)
	}
	props := sarif.Properties{"tags": tags}
	if score := misconfigSecuritySeverity(severity); score != "" {
		props["security-severity"] = score
	}
	rule := sarif.NewRule(c.ID).
		WithShortDescription(sarif.NewMultiformatMessageString(title)).
		WithTextHelp(text.String()).
		WithMarkdownHelp(md.String()).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(severity))).
		WithProperties(props)
	if c.Why != "" {
		rule.WithFullDescription(sarif.NewMultiformatMessageString(c.Why))
	}
	for _, r := range c.References {
		if strings.HasPrefix(r, "https://") && validURI(r) {
			rule.WithHelpURI(r)
			break
		}
	}
	return rule
}

// misconfigSecuritySeverity is the security-severity GitHub ranks a
// check's alerts by; checks have a severity, not a CVSS score.
func misconfigSecuritySeverity(severity string) string {
	switch severity {
	case inventory.SeverityCritical:
		return "9.0"
	case inventory.SeverityHigh:
		return "7.0"
	case inventory.SeverityMedium:
		return "5.0"
	case inventory.SeverityLow:
		return "2.0"
	}
	return ""
}

func sarifMisconfigResult(m *misconfig.Finding, a *inventory.Artifact) *sarif.Result {
	props := sarif.Properties{"severity": severityName(m.Severity), "type": m.Type}
	if m.Resource != "" {
		props["resource"] = m.Resource
	}
	if m.Template != "" {
		props["template"] = m.Template
	}
	if m.Fix != "" {
		props["fix"] = m.Fix
	}
	layer := misconfigLayer(m)
	addLayerProperties(props, layer, m.LayerDiffID, m.CreatedBy)
	if layer == inventory.NoLayer && m.CreatedBy != "" {
		props["createdBy"] = m.CreatedBy
	}
	r := sarif.NewRuleResult(m.ID).
		WithLevel(sarifLevel(m.Severity)).
		WithMessage(sarif.NewTextMessage(cmp.Or(m.Message, m.Title, m.ID))).
		WithLocations([]*sarif.Location{sarifLocation(m.Path, m.Line, layer, m.LayerDiffID, a)})
	r.Properties = props
	return r
}

func sarifVulnResult(v *inventory.Vulnerability, a *inventory.Artifact) *sarif.Result {
	msg := "Package " + v.Package.Name + " " + v.Package.Version + " is vulnerable to " + v.ID + "; "
	if v.FixedVersion != "" {
		msg += "fixed in " + v.FixedVersion
	} else {
		msg += inventory.StatusNoFix
	}
	props := sarif.Properties{
		"severity":         severityName(v.Severity),
		"packageName":      v.Package.Name,
		"installedVersion": v.Package.Version,
	}
	if v.Package.PURL != "" {
		props["purl"] = v.Package.PURL
	}
	if v.FixedVersion != "" {
		props["fixedVersion"] = v.FixedVersion
	}
	addLayerProperties(props, v.Location.LayerIndex, v.Location.LayerDiffID, v.Location.CreatedBy)
	r := sarif.NewRuleResult(v.ID).
		WithLevel(sarifLevel(v.Severity)).
		WithMessage(sarif.NewTextMessage(msg)).
		WithLocations([]*sarif.Location{sarifLocation(v.Location.Path, 1, v.Location.LayerIndex, v.Location.LayerDiffID, a)})
	r.Properties = props
	return r
}

func sarifSecretResult(s *inventory.Secret, a *inventory.Artifact) *sarif.Result {
	where := s.Path
	if s.Line > 0 {
		where += ":" + strconv.Itoa(s.Line)
	}
	msg := cmp.Or(s.Title, s.RuleID) + " (" + s.RuleID + ") in " + where + ": " + s.Match
	if s.DeletedInLayer != nil {
		msg += "; the file is deleted in layer " + strconv.Itoa(*s.DeletedInLayer) +
			" but still ships in layer " + strconv.Itoa(s.LayerIndex)
	}
	props := sarif.Properties{"severity": severityName(s.Severity), "match": s.Match}
	addLayerProperties(props, s.LayerIndex, s.LayerDiffID, s.CreatedBy)
	if s.DeletedInLayer != nil {
		props["deletedInLayer"] = *s.DeletedInLayer
	}
	line := max(s.Line, 1)
	r := sarif.NewRuleResult(sarifSecretRule + s.RuleID).
		WithLevel(sarifLevel(s.Severity)).
		WithMessage(sarif.NewTextMessage(msg)).
		WithLocations([]*sarif.Location{sarifLocation(s.Path, line, s.LayerIndex, s.LayerDiffID, a)})
	if s.Fingerprint != "" {
		// Stable across scans and layers, for deduplicating alerts.
		r.PartialFingerprints = map[string]any{"secretFingerprint/v1": s.Fingerprint}
	}
	r.Properties = props
	return r
}

// sarifMalwareRuleID is the one rule of malware results: a file whose hash
// matched a signature.
const sarifMalwareRuleID = "malware"

func sarifMalwareRule() *sarif.ReportingDescriptor {
	r := sarif.NewRule(sarifMalwareRuleID).
		WithShortDescription(sarif.NewMultiformatMessageString("File matches a malware signature")).
		WithFullDescription(sarif.NewMultiformatMessageString("The file's hash equals a signature of a malware database (ClamAV hash signatures, a sha256sum list, or the EICAR test file).")).
		WithHelp(sarif.NewMultiformatMessageString("Remove the file from the image and rebuild it from a trusted base; find out how it got there (the layer's history entry names the step).")).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel("error"))
	r.Properties = sarif.Properties{"tags": []string{"malware", "security"}, "security-severity": "10.0"}
	return r
}

func sarifMalwareResult(m *inventory.Malware, a *inventory.Artifact) *sarif.Result {
	hash := cmp.Or(m.SHA256, m.SHA1, m.MD5)
	msg := m.Path + " matches malware signature " + m.Signature + " (" + hash + ")"
	if m.DeletedInLayer != nil {
		msg += "; deleted in layer " + strconv.Itoa(*m.DeletedInLayer) + " but still shipped in layer " + strconv.Itoa(m.LayerIndex)
	}
	props := sarif.Properties{"severity": severityName(m.Severity), "signature": m.Signature, "hash": hash}
	addLayerProperties(props, m.LayerIndex, m.LayerDiffID, m.CreatedBy)
	r := sarif.NewRuleResult(sarifMalwareRuleID).
		WithLevel("error").
		WithMessage(sarif.NewTextMessage(msg)).
		WithLocations([]*sarif.Location{sarifLocation(m.Path, 0, m.LayerIndex, m.LayerDiffID, a)})
	r.Properties = props
	return r
}

func addLayerProperties(props sarif.Properties, index int, diffID, createdBy string) {
	if index == inventory.NoLayer {
		return
	}
	props["layerIndex"] = index
	if diffID != "" {
		props["layerDiffID"] = diffID
	}
	if createdBy != "" {
		props["createdBy"] = createdBy
	}
}

// sarifLocation is a file inside the scanned artifact, at a line (no
// region when line is 0), in a layer (a logical location) when the
// artifact is an image.
func sarifLocation(path string, line, layerIndex int, diffID string, a *inventory.Artifact) *sarif.Location {
	uri := sarifURI(path)
	if uri == "" {
		uri = sarifURI(artifactName(a))
	}
	phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri))
	if line > 0 {
		phys.WithRegion(sarif.NewRegion().WithStartLine(line))
	}
	loc := sarif.NewLocationWithPhysicalLocation(phys)
	if layerIndex != inventory.NoLayer {
		ll := sarif.NewLogicalLocation().
			WithKind("layer").
			WithFullyQualifiedName("layer " + strconv.Itoa(layerIndex))
		if diffID != "" {
			ll.WithName(diffID)
		}
		loc.WithLogicalLocations([]*sarif.LogicalLocation{ll})
	}
	return loc
}

// sarifURI makes a path inside the artifact a relative URI reference: no
// leading slash, each segment percent-encoded, ":" included so that
// "config.Env:TOKEN" does not read as a URI scheme.
func sarifURI(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return ""
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// sarifLevel maps a severity to a SARIF level: error for CRITICAL and
// HIGH, warning for MEDIUM, note for LOW and UNKNOWN.
func sarifLevel(severity string) string {
	switch inventory.SeverityRank(severity) {
	case 4, 3:
		return "error"
	case 2:
		return "warning"
	}
	return "note"
}

func sarifArtifactProperties(a *inventory.Artifact) sarif.Properties {
	props := sarif.Properties{"artifactName": artifactName(a), "artifactType": a.Type}
	if d := artifactDigest(a); d != "" && isImage(a) {
		props["artifactDigest"] = d
	}
	if len(a.RepoTags) > 0 {
		props["repoTags"] = a.RepoTags
	}
	if len(a.RepoDigests) > 0 {
		props["repoDigests"] = a.RepoDigests
	}
	return props
}

// formatScore writes a CVSS score with one decimal: "7.5", "10.0".
func formatScore(f float64) string {
	return strconv.FormatFloat(f, 'f', 1, 64)
}

func firstNonEmpty(vs []*inventory.Vulnerability, field func(*inventory.Vulnerability) string) string {
	for _, v := range vs {
		if s := field(v); s != "" {
			return s
		}
	}
	return ""
}

// validURI reports whether s is an absolute URI, as SARIF's helpUri must
// be: an advisory id or reference from a hostile database may hold
// control characters.
func validURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}
