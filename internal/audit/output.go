package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

// Formats lists the output formats Write knows.
func Formats() []string { return []string{"table", "json", "jsonl", "syslog"} }

// WriteOptions shape the output.
type WriteOptions struct {
	// All lists PASS and NOTE results in the table too (JSON always has them).
	All bool
}

// Write renders the report in format.
func Write(w io.Writer, format string, rep *Report, o WriteOptions) error {
	switch format {
	case "table", "":
		return writeTable(w, rep, o)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "jsonl":
		return Emit(siem.NewJSONL(w), rep)
	case "syslog":
		return Emit(siem.NewSyslog(w), rep)
	}
	return fmt.Errorf("unknown format %q (use %s)", format, strings.Join(Formats(), ", "))
}

// Events turns a report into SIEM events: one audit-result per result,
// one response-action per response, and one audit-summary at the end.
func Events(rep *Report) []siem.Event {
	evs := make([]siem.Event, 0, len(rep.Results)+1)
	for _, r := range rep.Results {
		sev := siem.Informational
		switch r.Result {
		case Fail:
			sev = siem.SeverityFor(r.Severity)
		case Warn:
			sev = max(siem.Warning, siem.SeverityFor(r.Severity)) // a WARN is at most a syslog warning
		case Note:
			sev = siem.Informational
		}
		evs = append(evs, siem.Event{
			Time: rep.Time, Host: rep.Host, Kind: siem.KindAuditResult, Severity: sev,
			Message: fmt.Sprintf("%s %s %s: %s", r.Result, r.ID, r.Target, r.Title),
			Data:    r.Fields(),
		})
	}
	s := rep.Summary
	data := map[string]any{
		"total": s.Total, "fail": s.Fail, "warn": s.Warn, "info": s.Info, "note": s.Note, "pass": s.Pass,
		"containers": s.Containers, "root": rep.Root,
	}
	if len(rep.Partial) > 0 {
		data["partial"] = rep.Partial
	}
	for _, a := range rep.Responses {
		evs = append(evs, a.Event(rep.Host))
	}
	sev := siem.Informational
	if s.Fail > 0 {
		sev = siem.Warning
	}
	evs = append(evs, siem.Event{Time: rep.Time, Host: rep.Host, Kind: siem.KindAuditSummary, Severity: sev,
		Message: summaryLine(rep), Data: data})
	return evs
}

// Emit sends every event of the report to sink.
func Emit(sink siem.Sink, rep *Report) error {
	for _, e := range Events(rep) {
		if err := sink.Emit(e); err != nil {
			return err
		}
	}
	return nil
}

func summaryLine(rep *Report) string {
	s := rep.Summary
	line := fmt.Sprintf("%d checks on the host, the daemon and %d containers: %d FAIL, %d WARN, %d INFO, %d NOTE, %d PASS",
		s.Total, s.Containers, s.Fail, s.Warn, s.Info, s.Note, s.Pass)
	if len(rep.Partial) > 0 {
		line += " (partial)"
	}
	return line
}

func writeTable(w io.Writer, rep *Report, o WriteOptions) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "CIS Docker Benchmark audit of %s (root %s)\n", printable(cmpOr(rep.Host, "this host")), printable(rep.Root))
	var cur string
	hidden := 0
	for _, r := range rep.Results {
		if (r.Result == Pass || r.Result == Note) && !o.All {
			hidden++
			continue
		}
		key := r.Target.Kind + "/" + r.Target.ID
		if key != cur {
			cur = key
			bw.WriteString("\n" + heading(r.Target) + "\n")
		}
		fmt.Fprintf(bw, "  %-4s  %-8s  %-6s  %s\n", r.Result, r.Severity, r.ID, printable(r.Title))
		fmt.Fprintf(bw, "  %-4s  %-8s  %-6s  %s\n", "", "", "", printable(r.Evidence))
	}
	if hidden > 0 {
		fmt.Fprintf(bw, "\n(%d passed or not-applicable checks not shown; --all lists them)\n", hidden)
	}
	e := rep.Exposure
	bw.WriteString("\nNetwork exposure (reachable from outside the host)\n")
	if len(e.Ports) == 0 && len(e.HostNetwork) == 0 && len(e.DaemonTCP) == 0 {
		bw.WriteString("  nothing published on all interfaces\n")
	}
	for _, d := range e.DaemonTCP {
		tls := "NO TLS client verification"
		if d.TLSVerify {
			tls = "TLS client verification"
		}
		fmt.Fprintf(bw, "  daemon API  %s (%s)\n", printable(d.Address), tls)
	}
	for _, p := range e.Ports {
		fmt.Fprintf(bw, "  %s:%s->%s  %s [%s]\n", printable(p.HostIP), printable(p.HostPort), printable(p.Port), printable(p.Container.String()), p.State)
	}
	for _, t := range e.HostNetwork {
		fmt.Fprintf(bw, "  host network  %s [%s]: every port it listens on\n", printable(t.String()), t.State)
	}
	if len(rep.Responses) > 0 {
		bw.WriteString("\nResponse\n")
		for _, a := range rep.Responses {
			bw.WriteString("  " + printable(a.Describe()) + "\n")
		}
	}
	for _, p := range rep.Partial {
		bw.WriteString("\nPARTIAL: " + printable(p) + "\n")
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintf(bw, "\n%d warnings:\n", len(rep.Warnings))
		for _, wn := range rep.Warnings {
			bw.WriteString("  " + printable(wn) + "\n")
		}
	}
	bw.WriteString("\n" + summaryLine(rep) + "\n")
	return bw.Flush()
}

func heading(t Target) string {
	switch t.Kind {
	case KindHost:
		return "HOST"
	case KindDaemon:
		return "DAEMON"
	}
	return fmt.Sprintf("CONTAINER %s (%.12s) image %s [%s]", printable(t.Name), t.ID, printable(t.Image), t.State)
}

// printable replaces control characters so a container name or a mount
// path cannot rewrite the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}
