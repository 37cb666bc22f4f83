package policy

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Verdict is the outcome of a policy: blocked or not, and why, grouped by
// the action that fixes it.
type Verdict struct {
	Blocked bool   `json:"blocked"`
	Policy  string `json:"policy"`
	// Reasons are the blocking groups; Warnings the groups of warn rules
	// and of expired exceptions. Each group is one fix.
	Reasons  []Reason `json:"reasons"`
	Warnings []Reason `json:"warnings"`
	// Suppressed are the findings an exception or a VEX statement
	// removed, with who said so and why.
	Suppressed []Suppressed `json:"suppressed,omitempty"`
	// Preexisting are findings a rule matched that were already in the
	// baseline report: listed, not blocking.
	Preexisting []Finding `json:"preexisting,omitempty"`
	Counts      Counts    `json:"counts"`
	// Rules are the policy's rule names in order, for reports that list
	// every rule (JUnit).
	Rules []RuleRef `json:"rules,omitempty"`
}

// RuleRef names one rule of the policy and its action.
type RuleRef struct {
	Name   string `json:"name"`
	Action Action `json:"action"`
}

// Reason is one fix and the findings it fixes.
type Reason struct {
	Rule     string    `json:"rule"` // rule names, ", "-separated when several rules meet in one fix
	Action   Action    `json:"action"`
	Fix      string    `json:"fix"`
	Findings []Finding `json:"findings"`
	key      string
	kind     int
	worst    int
}

// Finding is one thing a rule matched, with where it is.
type Finding struct {
	Kind         string   `json:"kind"` // vulnerability, secret, malware, misconfig, license, source, image, custom, exception
	ID           string   `json:"id"`
	Severity     string   `json:"severity,omitempty"`
	Title        string   `json:"title,omitempty"`
	Package      string   `json:"package,omitempty"`
	Version      string   `json:"version,omitempty"`
	FixedVersion string   `json:"fixedVersion,omitempty"`
	Path         string   `json:"path,omitempty"`
	Line         int      `json:"line,omitempty"`
	LayerIndex   *int     `json:"layerIndex,omitempty"`
	CreatedBy    string   `json:"createdBy,omitempty"`
	Origin       string   `json:"origin,omitempty"` // base or app, when the base is known
	Message      string   `json:"message,omitempty"`
	Rules        []string `json:"rules,omitempty"`
	eco          string   // the vulnerable package's OSV ecosystem, to order fixed versions
	fix          string   // a misconfiguration's fix
	source       string   // a vulnerable package's source package
}

// Where is "path:line, layer N: instruction" as far as known.
func (f *Finding) Where() string {
	var b strings.Builder
	if f.Path != "" {
		b.WriteString(printable(f.Path))
		if f.Line > 0 {
			b.WriteString(":" + strconv.Itoa(f.Line))
		}
	}
	if f.LayerIndex != nil && *f.LayerIndex >= 0 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("layer " + strconv.Itoa(*f.LayerIndex))
		if f.Origin != "" {
			b.WriteString(" (" + f.Origin + ")")
		}
		if f.CreatedBy != "" {
			b.WriteString(": " + printable(trunc(Instruction(f.CreatedBy), 100)))
		}
	}
	return b.String()
}

// Suppressed is a finding an exception or VEX statement removed.
type Suppressed struct {
	Finding Finding `json:"finding"`
	By      string  `json:"by"` // ".bulkheadignore.yaml:3", "vex: FILE"
	Reason  string  `json:"reason"`
	Owner   string  `json:"owner,omitempty"`
	Expires string  `json:"expires,omitempty"`
}

// Counts sum up the findings the verdict looked at.
type Counts struct {
	Findings    int `json:"findings"`    // vulnerabilities, secrets, malware and misconfigurations looked at
	Blocked     int `json:"blocked"`     // findings (of any kind) in blocking reasons
	Warned      int `json:"warned"`      // findings in warnings
	Allowed     int `json:"allowed"`     // scanner findings no rule matched
	Suppressed  int `json:"suppressed"`  // by an exception or VEX
	Preexisting int `json:"preexisting"` // matched, but in the baseline
	Expired     int `json:"expired"`     // exceptions past their date
}

// maxShown bounds the findings listed under one reason in text.
const maxShown = 8

// WriteText writes the WHY block: BLOCKED or PASSED, then the reasons
// grouped by fix, then warnings; with showSuppressed, what was suppressed
// and why.
func (v *Verdict) WriteText(w io.Writer, showSuppressed bool) error {
	bw := bufio.NewWriter(w)
	if v.Blocked {
		fmt.Fprintf(bw, "BLOCKED by policy %q (%s)\n", v.Policy, plural(len(v.Reasons), "reason", "reasons"))
		writeReasons(bw, v.Reasons)
	} else {
		fmt.Fprintf(bw, "PASSED policy %q: %d allowed, %d warned, %d suppressed", v.Policy,
			v.Counts.Allowed, v.Counts.Warned, v.Counts.Suppressed)
		if v.Counts.Preexisting > 0 {
			fmt.Fprintf(bw, ", %d pre-existing", v.Counts.Preexisting)
		}
		bw.WriteString("\n")
	}
	if len(v.Warnings) > 0 {
		fmt.Fprintf(bw, "\nWarnings (%d)\n", len(v.Warnings))
		writeReasons(bw, v.Warnings)
	}
	if len(v.Preexisting) > 0 {
		fmt.Fprintf(bw, "\nPre-existing, in the baseline (%d): not blocking\n", len(v.Preexisting))
		for i, f := range v.Preexisting {
			if i == maxShown {
				fmt.Fprintf(bw, "   … and %d more\n", len(v.Preexisting)-maxShown)
				break
			}
			bw.WriteString("   - " + findingLine(&f, true) + "\n")
		}
	}
	if showSuppressed {
		fmt.Fprintf(bw, "\nSuppressed (%d)\n", len(v.Suppressed))
		for _, s := range v.Suppressed {
			line := "   - " + findingLine(&s.Finding, true) + "\n     by " + printable(s.By) + ": " + printable(s.Reason)
			if s.Owner != "" {
				line += " (owner " + printable(s.Owner) + ")"
			}
			if s.Expires != "" {
				line += ", until " + s.Expires
			}
			bw.WriteString(line + "\n")
		}
	} else if len(v.Suppressed) > 0 {
		fmt.Fprintf(bw, "\n%s suppressed by exceptions or VEX (--show-suppressed lists them)\n", plural(len(v.Suppressed), "finding", "findings"))
	}
	return bw.Flush()
}

func writeReasons(bw *bufio.Writer, rs []Reason) {
	for i, r := range rs {
		// A fix may be several lines (a corrected YAML block): indent the
		// others under the first.
		fix := strings.Split(strings.TrimRight(r.Fix, "\n"), "\n")
		fmt.Fprintf(bw, "\n%d. %s\n", i+1, printable(fix[0]))
		for _, l := range fix[1:] {
			bw.WriteString("     " + printable(l) + "\n")
		}
		fmt.Fprintf(bw, "   rule: %s (%s)\n", printable(r.Rule), r.Action)
		wheres := map[string]bool{}
		for _, f := range r.Findings {
			wheres[f.Where()] = true
		}
		shared := len(wheres) == 1 && len(r.Findings) > 1
		if shared {
			if w := r.Findings[0].Where(); w != "" {
				bw.WriteString("   where: " + w + "\n")
			}
		}
		for j, f := range r.Findings {
			if j == maxShown {
				fmt.Fprintf(bw, "   … and %d more\n", len(r.Findings)-maxShown)
				break
			}
			bw.WriteString("   - " + findingLine(&f, !shared) + "\n")
		}
	}
}

func findingLine(f *Finding, withWhere bool) string {
	parts := []string{printable(f.ID)}
	if f.Severity != "" {
		parts = append(parts, f.Severity)
	}
	switch {
	case f.Kind == "vulnerability" && f.FixedVersion != "":
		parts = append(parts, printable(f.Package+" "+f.Version)+", fixed in "+printable(f.FixedVersion))
	case f.Kind == "vulnerability":
		parts = append(parts, printable(f.Package+" "+f.Version)+", no fix yet")
	case f.Message != "":
		parts = append(parts, printable(trunc(f.Message, 160)))
	case f.Title != "":
		parts = append(parts, printable(f.Title))
	}
	s := strings.Join(parts, "  ")
	if withWhere {
		if w := f.Where(); w != "" {
			s += "\n     at " + w
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// printable replaces control characters (from image content: paths,
// instructions) so they cannot rewrite the terminal.
func printable(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r == '\u202e'
}

// Instruction turns a history entry's created_by into the Dockerfile
// instruction: "/bin/sh -c #(nop)  COPY file:ab… in /app" is "COPY file:ab…
// in /app", "/bin/sh -c apt-get install" is "RUN apt-get install";
// BuildKit's "RUN /bin/sh -c apt-get …" is "RUN apt-get …".
func Instruction(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		rest = strings.TrimSpace(rest)
		if nop, ok := strings.CutPrefix(rest, "#(nop)"); ok {
			return strings.TrimSpace(nop)
		}
		return "RUN " + rest
	}
	if rest, ok := strings.CutPrefix(s, "RUN /bin/sh -c "); ok {
		return "RUN " + strings.TrimSpace(strings.TrimSuffix(rest, " # buildkit"))
	}
	return strings.TrimSuffix(s, " # buildkit")
}
