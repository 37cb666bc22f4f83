package report

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// The table is for people at a terminal. A scan that looked for
// vulnerabilities shows the findings, grouped by package, and fits an
// 80-column terminal: long titles are cut, long ids, versions and paths
// wrap inside their column, header and warning lines wrap. An SBOM-only
// scan (Vulnerabilities nil) lists the packages instead; that listing is
// as wide as its longest licence, for grep and wide terminals.

// tableWidth is the terminal width the findings view fits in.
const tableWidth = 80

func writeTable(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	bw := bufio.NewWriter(w)
	osName := "unknown"
	if inv.OS != nil {
		osName = cmp.Or(inv.OS.Name, strings.TrimSpace(inv.OS.ID+" "+inv.OS.VersionID))
	}
	writeWrapped(bw, "Artifact: "+printable(artifactName(&inv.Artifact)), 10)
	writeWrapped(bw, "OS:       "+printable(osName), 10)
	bw.WriteString("Packages: " + strconv.Itoa(len(inv.Packages)) + "\n")

	switch {
	case inv.Vulnerabilities == nil && len(inv.Packages) == 0 && inv.Misconfigurations != nil:
		// A misconfiguration scan of a manifest (scan fs -) has no
		// packages to list.
	case inv.Vulnerabilities == nil:
		bw.WriteString("\n")
		if err := writePackageList(bw, inv.Packages); err != nil {
			return err
		}
	default:
		writeVulnTable(bw, inv.Vulnerabilities)
	}
	if inv.Secrets != nil {
		writeSecretTable(bw, inv.Secrets)
	}
	if inv.Malware != nil {
		writeMalwareTable(bw, inv.Malware)
	}
	if inv.Misconfigurations != nil {
		writeMisconfigTable(bw, inv.Misconfigurations)
	}

	if len(inv.Warnings) > 0 {
		bw.WriteString("\n")
		for _, warn := range inv.Warnings {
			writeWrapped(bw, "WARN "+printable(warn.String()), 5)
		}
	}
	if opts.Verdict != nil {
		// The WHY block comes last: it is what a developer reads first
		// in a failed pipeline's log.
		bw.WriteString("\n")
		if err := opts.Verdict.WriteText(bw, opts.ShowSuppressed); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writePackageList writes the inventory, one package a line.
func writePackageList(bw *bufio.Writer, pkgs []inventory.Package) error {
	if len(pkgs) == 0 {
		bw.WriteString("No packages found.\n")
		return nil
	}
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	io.WriteString(tw, "NAME\tVERSION\tTYPE\tSOURCE\tLAYER\tLICENSE\n")
	for _, p := range sortedPackages(pkgs) {
		row := [...]string{
			p.Name, packageVersion(p), p.Type, sourceName(p), tableLayer(p),
			strings.Join(cleanLicenses(p.Licenses), ", "),
		}
		for i, cell := range row {
			if i > 0 {
				io.WriteString(tw, "\t")
			}
			io.WriteString(tw, cmp.Or(printable(cell), "-"))
		}
		io.WriteString(tw, "\n")
	}
	return tw.Flush()
}

// vulnGroup is the findings on one package at one location.
type vulnGroup struct {
	vulns []*inventory.Vulnerability // worst first, then by id
	worst int                        // severity rank of vulns[0]
}

// groupVulns groups findings by package and location: groups ordered by
// their worst severity, then package; findings inside by severity, then id.
func groupVulns(vs []inventory.Vulnerability) []vulnGroup {
	var groups []vulnGroup
	for _, v := range sortedVulns(vs) {
		if n := len(groups); n > 0 && comparePackageOf(groups[n-1].vulns[0], v) == 0 {
			groups[n-1].vulns = append(groups[n-1].vulns, v)
			continue
		}
		groups = append(groups, vulnGroup{vulns: []*inventory.Vulnerability{v}})
	}
	for i := range groups {
		g := &groups[i]
		// Stable: equal severities keep sortedVulns' order, id first.
		slices.SortStableFunc(g.vulns, func(a, b *inventory.Vulnerability) int {
			return cmp.Compare(inventory.SeverityRank(b.Severity), inventory.SeverityRank(a.Severity))
		})
		g.worst = inventory.SeverityRank(g.vulns[0].Severity)
	}
	slices.SortStableFunc(groups, func(a, b vulnGroup) int {
		return cmp.Compare(b.worst, a.worst)
	})
	return groups
}

func writeVulnTable(bw *bufio.Writer, vs []inventory.Vulnerability) {
	var counts severityCounts
	for i := range vs {
		counts.add(vs[i].Severity)
	}
	bw.WriteString("\nVulnerabilities: " + strconv.Itoa(len(vs)) + " (" + counts.String() + ")\n")
	if len(vs) == 0 {
		return
	}
	groups := groupVulns(vs)

	// A package whose name and version appear at two locations (two
	// node_modules, say) is told apart by its path.
	seen := make(map[string]int, len(groups))
	for _, g := range groups {
		seen[g.vulns[0].Package.Name+"\x00"+g.vulns[0].Package.Version]++
	}

	cols := []column{
		{title: "ID", max: 22},
		{title: "SEVERITY", max: 8},
		{title: "FIXED IN", max: 22},
		{title: "TITLE", truncate: true},
	}
	var rows [][]string
	var heads []string // group header before each row, "" inside a group
	for _, g := range groups {
		v0 := g.vulns[0]
		head := printable(v0.Package.Name) + " " + printable(v0.Package.Version)
		var where []string
		if seen[v0.Package.Name+"\x00"+v0.Package.Version] > 1 {
			where = append(where, printable(v0.Location.Path))
		}
		if l := layerText(v0.Location); l != "" {
			where = append(where, l)
		}
		if len(where) > 0 {
			head += " (" + strings.Join(where, ", ") + ")"
		}
		for i, v := range g.vulns {
			if i == 0 {
				heads = append(heads, head)
			} else {
				heads = append(heads, "")
			}
			fixed := inventory.StatusNoFix
			if v.FixedVersion != "" {
				fixed = printable(v.FixedVersion)
			}
			rows = append(rows, []string{printable(v.ID), severityName(v.Severity), fixed, cmp.Or(printable(v.Title), "-")})
		}
	}
	t := layoutColumns(cols, rows, 2)
	bw.WriteString("\n")
	t.writeRow(bw, t.titles())
	for i, row := range rows {
		if heads[i] != "" {
			writeWrapped(bw, heads[i], 4)
		}
		t.writeRow(bw, row)
	}
}

func writeSecretTable(bw *bufio.Writer, ss []inventory.Secret) {
	var counts severityCounts
	for i := range ss {
		counts.add(ss[i].Severity)
	}
	bw.WriteString("\nSecrets: " + strconv.Itoa(len(ss)) + " (" + counts.String() + ")\n")
	if len(ss) == 0 {
		return
	}
	sorted := sortedSecrets(ss)
	slices.SortStableFunc(sorted, func(a, b *inventory.Secret) int {
		return cmp.Compare(inventory.SeverityRank(b.Severity), inventory.SeverityRank(a.Severity))
	})
	cols := []column{
		{title: "RULE", max: 22},
		{title: "SEVERITY", max: 8},
		{title: "PATH:LINE"},
		{title: "LAYER", max: 10},
		{title: "MATCH", max: 16},
	}
	rows := make([][]string, 0, len(sorted))
	for _, s := range sorted {
		where := printable(s.Path)
		if s.Line > 0 {
			where += ":" + strconv.Itoa(s.Line)
		}
		layer := "-"
		if s.LayerIndex != inventory.NoLayer {
			layer = strconv.Itoa(s.LayerIndex)
		}
		if s.DeletedInLayer != nil {
			layer += ", deleted in layer " + strconv.Itoa(*s.DeletedInLayer)
		}
		rows = append(rows, []string{printable(s.RuleID), severityName(s.Severity), where, layer, printable(s.Match)})
	}
	t := layoutColumns(cols, rows, 2)
	bw.WriteString("\n")
	t.writeRow(bw, t.titles())
	for _, row := range rows {
		t.writeRow(bw, row)
	}
}

func writeMalwareTable(bw *bufio.Writer, ms []inventory.Malware) {
	bw.WriteString("\nMalware: " + strconv.Itoa(len(ms)) + "\n")
	if len(ms) == 0 {
		return
	}
	cols := []column{
		{title: "SIGNATURE", max: 24},
		{title: "PATH"},
		{title: "LAYER", max: 10},
		{title: "HASH", max: 20},
	}
	rows := make([][]string, 0, len(ms))
	for _, m := range ms {
		layer := strconv.Itoa(m.LayerIndex)
		if m.DeletedInLayer != nil {
			layer += ", deleted in layer " + strconv.Itoa(*m.DeletedInLayer)
		}
		hash := cmp.Or(m.SHA256, m.SHA1, m.MD5)
		if len(hash) > 16 {
			hash = hash[:16] + "…"
		}
		rows = append(rows, []string{printable(m.Signature), printable(m.Path), layer, hash})
	}
	t := layoutColumns(cols, rows, 2)
	bw.WriteString("\n")
	t.writeRow(bw, t.titles())
	for _, row := range rows {
		t.writeRow(bw, row)
	}
}

// misconfigGroup is the misconfiguration findings in one file (or the
// image config) and layer.
type misconfigGroup struct {
	head     string
	findings []*misconfig.Finding // worst first, then by line and id
}

// misconfigFile names the file a finding is in: its path, or "image
// config" for a finding on the image configuration.
func misconfigFile(m *misconfig.Finding) string {
	return cmp.Or(m.Path, "image config")
}

// groupMisconfigs groups findings by file and layer: groups ordered by
// their worst severity, then file; findings inside by severity, line, id,
// resource and message.
func groupMisconfigs(ms []misconfig.Finding) []misconfigGroup {
	sorted := sortedMisconfigs(ms)
	type key struct {
		file  string
		layer int
	}
	var groups []misconfigGroup
	var keys []key
	index := map[key]int{}
	for _, m := range sorted {
		k := key{misconfigFile(m), misconfigLayer(m)}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			head := printable(k.file)
			if l := layerText(inventory.Location{LayerIndex: k.layer, LayerDiffID: m.LayerDiffID}); l != "" {
				head += " (" + l + ")"
			}
			groups = append(groups, misconfigGroup{head: head})
			keys = append(keys, k)
		}
		groups[i].findings = append(groups[i].findings, m)
	}
	// sortedMisconfigs put each group's worst finding first; order the
	// groups by it, then by file and layer.
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(
			cmp.Compare(inventory.SeverityRank(groups[b].findings[0].Severity), inventory.SeverityRank(groups[a].findings[0].Severity)),
			cmp.Compare(keys[a].file, keys[b].file),
			cmp.Compare(keys[a].layer, keys[b].layer),
		)
	})
	out := make([]misconfigGroup, len(groups))
	for i, j := range order {
		out[i] = groups[j]
	}
	return out
}

// misconfigIndent indents a finding's message under its row.
const misconfigIndent = 6

func writeMisconfigTable(bw *bufio.Writer, ms []misconfig.Finding) {
	var counts severityCounts
	for i := range ms {
		counts.add(ms[i].Severity)
	}
	bw.WriteString("\nMisconfigurations: " + strconv.Itoa(len(ms)) + " (" + counts.String() + ")\n")
	if len(ms) == 0 {
		return
	}
	groups := groupMisconfigs(ms)
	cols := []column{
		{title: "ID", max: 14},
		{title: "SEVERITY", max: 8},
		{title: "LINE", max: 7},
		{title: "TITLE", truncate: true},
	}
	var rows [][]string
	for _, g := range groups {
		for _, m := range g.findings {
			rows = append(rows, misconfigRow(m))
		}
	}
	t := layoutColumns(cols, rows, 2)
	bw.WriteString("\n")
	t.writeRow(bw, t.titles())
	for _, g := range groups {
		writeWrapped(bw, g.head, 4)
		for _, m := range g.findings {
			t.writeRow(bw, misconfigRow(m))
			msg := m.Message
			if m.Resource != "" {
				msg = m.Resource + ": " + msg
			}
			if msg = printable(strings.TrimSpace(msg)); msg != "" {
				writeIndented(bw, msg, misconfigIndent)
			}
		}
	}
}

func misconfigRow(m *misconfig.Finding) []string {
	line := "-"
	if m.Line > 0 {
		line = strconv.Itoa(m.Line)
	}
	return []string{printable(m.ID), severityName(m.Severity), line, cmp.Or(printable(m.Title), "-")}
}

// writeIndented writes s wrapped to tableWidth, every line indented by
// indent spaces.
func writeIndented(bw *bufio.Writer, s string, indent int) {
	pad := strings.Repeat(" ", indent)
	for _, line := range wrapWidth(s, tableWidth-indent) {
		bw.WriteString(pad + line + "\n")
	}
}

// tableLayer is the layer of the package's first location: index and
// short diffID; "" outside images.
func tableLayer(p *inventory.Package) string {
	if len(p.Locations) == 0 || p.Locations[0].LayerIndex == inventory.NoLayer {
		return ""
	}
	l := p.Locations[0]
	return strings.TrimSpace(strconv.Itoa(l.LayerIndex) + " " + shortDigest(l.LayerDiffID))
}

// printable makes a string from a scanned image safe to print on a
// terminal: a name with control characters (escape sequences, newlines,
// tabs that would break the columns) is shown quoted and escaped.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}
