// Package siem turns bulkhead's findings and actions into events a SIEM
// ingests: JSON lines, and syslog RFC 5424 messages with structured data,
// written to a stream (stdout, a file) or sent to a collector over UDP or
// TCP (RFC 6587 octet counting). Audit, drift, inventory and the response
// engine all emit the same Event.
package siem

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Event kinds other packages emit.
const (
	KindAuditResult    = "audit-result"
	KindAuditSummary   = "audit-summary"
	KindResponseAction = "response-action"
	KindDriftFinding   = "drift-finding"
	// Inventory: containers that appeared, disappeared or changed since
	// the previous snapshot, and containers no API knows.
	KindContainerAdded     = "container-added"
	KindContainerRemoved   = "container-removed"
	KindContainerChanged   = "container-changed"
	KindUnmanagedContainer = "unmanaged-container"
)

// Fields turns a value with JSON tags into event data: its JSON object as
// a map, so the field names a SIEM sees are those of the JSON reports.
func Fields(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string]any{"value": string(b)}
	}
	return m
}

// EmitAll sends events to sink in order, stopping at the first error.
func EmitAll(sink Sink, evs []Event) error {
	for _, e := range evs {
		if err := sink.Emit(e); err != nil {
			return err
		}
	}
	return nil
}

// Syslog severities (RFC 5424 section 6.2.1).
type Severity int

const (
	Emergency Severity = iota
	Alert
	Critical
	Error
	Warning
	Notice
	Informational
	Debug
)

var severityNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "info"
	}
	return severityNames[s]
}

// SeverityFor maps a bulkhead severity (CRITICAL, HIGH, MEDIUM, LOW,
// anything else) to a syslog severity: CRITICAL→crit, HIGH→err,
// MEDIUM→warning, LOW→notice, else info.
func SeverityFor(s string) Severity {
	switch strings.ToUpper(s) {
	case "CRITICAL":
		return Critical
	case "HIGH":
		return Error
	case "MEDIUM":
		return Warning
	case "LOW":
		return Notice
	}
	return Informational
}

// Event is one thing worth telling a SIEM. Data holds the event's own
// fields (an audit result's id, title, result, target…); nested maps are
// allowed and become dotted names in syslog structured data.
type Event struct {
	Time     time.Time
	Host     string
	Kind     string
	Severity Severity
	Message  string
	Data     map[string]any
}

// Sink receives events. Implementations are safe for concurrent use.
type Sink interface {
	Emit(Event) error
	Close() error
}

// Hostname is the host name events carry when Event.Host is empty.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "-"
	}
	return h
}

func (e *Event) fill() {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Host == "" {
		e.Host = Hostname()
	}
	if e.Kind == "" {
		e.Kind = "event"
	}
}

// MarshalJSON writes the event as one flat object: timestamp, host, app,
// kind, syslog_severity, message, then Data's keys (Data cannot override
// the envelope).
func (e Event) MarshalJSON() ([]byte, error) {
	e.fill()
	m := make(map[string]any, len(e.Data)+7)
	maps.Copy(m, e.Data)
	m["timestamp"] = e.Time.UTC().Format(time.RFC3339Nano)
	m["host"] = e.Host
	m["app"] = appName
	m["kind"] = e.Kind
	m["syslog_severity"] = int(e.Severity)
	m["syslog_severity_name"] = e.Severity.String()
	if e.Message != "" {
		m["message"] = e.Message
	}
	return json.Marshal(m)
}

// JSONL writes one JSON object per line.
type JSONL struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONL writes events to w as JSON lines.
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: w} }

// Emit writes one line.
func (j *JSONL) Emit(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// Close does nothing; the writer belongs to the caller.
func (j *JSONL) Close() error { return nil }

// Multi fans events out to several sinks; the first error is returned
// after every sink has had the event.
type Multi []Sink

// Emit sends e to every sink.
func (m Multi) Emit(e Event) error {
	var first error
	for _, s := range m {
		if err := s.Emit(e); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close closes every sink.
func (m Multi) Close() error {
	var first error
	for _, s := range m {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// flatten turns nested maps into dotted keys, sorted, values as strings.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, vv := range x {
			flatten(join(prefix, k), vv, out)
		}
	case map[string]string:
		for k, vv := range x {
			out[join(prefix, k)] = vv
		}
	case []string:
		out[prefix] = strings.Join(x, ",")
	case string:
		out[prefix] = x
	case fmt.Stringer:
		out[prefix] = x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			out[prefix] = fmt.Sprint(x)
			return
		}
		out[prefix] = strings.Trim(string(b), `"`)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func sortedKeys(m map[string]string) []string {
	return slices.SortedFunc(maps.Keys(m), cmp.Compare)
}
