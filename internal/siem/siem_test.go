package siem

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// message is a parsed RFC 5424 message.
type message struct {
	pri                      int
	version                  int
	timestamp                time.Time
	host, app, procID, msgID string
	sdID                     string
	params                   map[string]string
	msg                      string
}

// parse5424 reads one RFC 5424 message strictly enough to catch a
// malformed header, SD element or escape.
func parse5424(b []byte) (*message, error) {
	s := string(b)
	m := &message{params: map[string]string{}}
	if !strings.HasPrefix(s, "<") {
		return nil, errors.New("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 2 || end > 4 {
		return nil, errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri > 191 {
		return nil, fmt.Errorf("bad PRI %q", s[1:end])
	}
	m.pri = pri
	s = s[end+1:]
	fields := strings.SplitN(s, " ", 7)
	if len(fields) < 7 {
		return nil, errors.New("short header")
	}
	if m.version, err = strconv.Atoi(fields[0]); err != nil || m.version != 1 {
		return nil, fmt.Errorf("version %q", fields[0])
	}
	if m.timestamp, err = time.Parse(time.RFC3339Nano, fields[1]); err != nil {
		return nil, err
	}
	m.host, m.app, m.procID, m.msgID = fields[2], fields[3], fields[4], fields[5]
	for i, h := range fields[2:6] {
		max := []int{255, 48, 128, 32}[i]
		if h == "" || len(h) > max {
			return nil, fmt.Errorf("header field %q", h)
		}
		for _, c := range []byte(h) {
			if c < 33 || c > 126 {
				return nil, fmt.Errorf("header field %q has byte %d", h, c)
			}
		}
	}
	rest := fields[6]
	if rest == "-" || strings.HasPrefix(rest, "- ") {
		m.msg = strings.TrimPrefix(strings.TrimPrefix(rest, "-"), " ")
		return m, nil
	}
	if !strings.HasPrefix(rest, "[") {
		return nil, errors.New("no SD")
	}
	i := 1
	j := strings.IndexAny(rest[i:], " ]")
	if j < 0 {
		return nil, errors.New("unterminated SD-ID")
	}
	m.sdID = rest[i : i+j]
	i += j
	for rest[i] == ' ' {
		i++
		eq := strings.IndexByte(rest[i:], '=')
		if eq <= 0 || eq > 32 {
			return nil, errors.New("bad PARAM-NAME")
		}
		name := rest[i : i+eq]
		for _, c := range []byte(name) {
			if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' || c == ' ' {
				return nil, fmt.Errorf("PARAM-NAME %q", name)
			}
		}
		i += eq + 1
		if i >= len(rest) || rest[i] != '"' {
			return nil, errors.New("PARAM-VALUE not quoted")
		}
		i++
		var v strings.Builder
		for {
			if i >= len(rest) {
				return nil, errors.New("unterminated PARAM-VALUE")
			}
			c := rest[i]
			if c == '\\' && i+1 < len(rest) && strings.IndexByte(`"\]`, rest[i+1]) >= 0 {
				v.WriteByte(rest[i+1])
				i += 2
				continue
			}
			if c == '"' {
				i++
				break
			}
			if c == ']' {
				return nil, errors.New("unescaped ] in PARAM-VALUE")
			}
			v.WriteByte(c)
			i++
		}
		m.params[name] = v.String()
		if i >= len(rest) {
			return nil, errors.New("unterminated SD-ELEMENT")
		}
	}
	if rest[i] != ']' {
		return nil, fmt.Errorf("SD-ELEMENT ends with %q", rest[i])
	}
	i++
	if i < len(rest) {
		if rest[i] != ' ' {
			return nil, errors.New("no space before MSG")
		}
		m.msg = rest[i+1:]
	}
	return m, nil
}

func sample(i int) Event {
	return Event{
		Time: time.Date(2026, 11, 28, 10, 0, i, 123456000, time.UTC), Host: "docker-host-1", Kind: KindAuditResult,
		Severity: Critical, Message: fmt.Sprintf("FAIL 5.5 container web-%d: privileged", i),
		Data: map[string]any{
			"id": "5.5", "result": "FAIL", "severity": "CRITICAL",
			"target":   map[string]any{"kind": "container", "name": fmt.Sprintf("web-%d", i), "id": "abc"},
			"evidence": `mount "/var/run/docker.sock" \ odd ] chars`,
			"reasons":  []string{"a", "b"},
		},
	}
}

func checkSample(t *testing.T, m *message, i int) {
	t.Helper()
	if m.pri != DefaultFacility*8+int(Critical) || m.host != "docker-host-1" || m.app != "bulkhead" || m.msgID != KindAuditResult || m.sdID != sdID {
		t.Errorf("header %+v", m)
	}
	if !m.timestamp.Equal(sample(i).Time) {
		t.Errorf("timestamp %v", m.timestamp)
	}
	want := map[string]string{
		"id": "5.5", "result": "FAIL", "severity": "CRITICAL", "target.kind": "container",
		"target.name": fmt.Sprintf("web-%d", i), "target.id": "abc",
		"evidence": `mount "/var/run/docker.sock" \ odd ] chars`, "reasons": "a,b",
	}
	for k, v := range want {
		if m.params[k] != v {
			t.Errorf("param %s = %q, want %q", k, m.params[k], v)
		}
	}
	if m.msg != sample(i).Message {
		t.Errorf("msg %q", m.msg)
	}
}

func TestFormatParsesBack(t *testing.T) {
	m, err := parse5424(Format(sample(1), DefaultFacility, "42"))
	if err != nil {
		t.Fatalf("%v\n%s", err, Format(sample(1), DefaultFacility, "42"))
	}
	checkSample(t, m, 1)
	// Header fields are kept to printable ASCII; an empty one is "-".
	e := Event{Host: "bad host\n", Kind: "k", Severity: 99, Data: map[string]any{"we ird=]\"": "x"}}
	m, err = parse5424(Format(e, 1, ""))
	if err != nil {
		t.Fatalf("%v\n%s", err, Format(e, 1, ""))
	}
	if m.host != "badhost" || m.procID != "-" || m.pri != 8+int(Informational) || m.params["we_ird___"] != "x" {
		t.Errorf("sanitised %+v", m)
	}
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := Dial("udp://" + pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		if err := s.Emit(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 65536)
	for i := range 3 {
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parse5424(buf[:n])
		if err != nil {
			t.Fatalf("datagram %d: %v\n%s", i, err, buf[:n])
		}
		checkSample(t, m, i)
	}
}

func TestTCPOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []*message, 1)
	errc := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		var ms []*message
		for range 3 {
			lenStr, err := r.ReadString(' ')
			if err != nil {
				errc <- err
				return
			}
			n, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
			if err != nil {
				errc <- fmt.Errorf("frame length %q", lenStr)
				return
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				errc <- err
				return
			}
			m, err := parse5424(b)
			if err != nil {
				errc <- fmt.Errorf("%v\n%s", err, b)
				return
			}
			ms = append(ms, m)
		}
		got <- ms
	}()
	s, err := Dial("tcp://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		e := sample(i)
		if i == 2 {
			e.Message += "\nsecond line" // octet counting carries newlines
		}
		if err := s.Emit(e); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ms := <-got:
		checkSample(t, ms[0], 0)
		checkSample(t, ms[1], 1)
		if !strings.HasSuffix(ms[2].msg, "\nsecond line") {
			t.Errorf("multi-line message %q", ms[2].msg)
		}
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(15 * time.Second):
		t.Fatal("no messages within 15s")
	}
}

func TestJSONL(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONL(&buf)
	for i := range 2 {
		if err := j.Emit(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatal(err)
	}
	if m["timestamp"] != "2026-11-28T10:00:01.123456Z" || m["kind"] != KindAuditResult || m["host"] != "docker-host-1" ||
		m["syslog_severity"] != float64(Critical) || m["id"] != "5.5" || m["target"].(map[string]any)["name"] != "web-1" {
		t.Errorf("line %s", lines[1])
	}
}

func TestSyslogToStream(t *testing.T) {
	var buf bytes.Buffer
	s := NewSyslog(&buf)
	if err := s.Emit(sample(0)); err != nil {
		t.Fatal(err)
	}
	line, ok := strings.CutSuffix(buf.String(), "\n")
	if !ok {
		t.Fatal("no newline")
	}
	m, err := parse5424([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, m, 0)
}

func TestDialErrors(t *testing.T) {
	for _, u := range []string{"", "udp://", "http://x:1", "tcp://127.0.0.1:1", "::"} {
		if _, err := Dial(u); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
}

func TestSeverityFor(t *testing.T) {
	for in, want := range map[string]Severity{"CRITICAL": Critical, "high": Error, "MEDIUM": Warning, "LOW": Notice, "": Informational} {
		if got := SeverityFor(in); got != want {
			t.Errorf("%q → %v, want %v", in, got, want)
		}
	}
}

func FuzzFormat(f *testing.F) {
	f.Add("host", "kind", "key", `va"l\u]e`, "message")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, host, kind, key, value, msg string) {
		e := Event{Time: time.Unix(0, 0), Host: host, Kind: kind, Message: strings.ReplaceAll(msg, "\n", " "), Data: map[string]any{key: value}}
		b := Format(e, DefaultFacility, "1")
		m, err := parse5424(b)
		if err != nil {
			t.Fatalf("%v\n%q", err, b)
		}
		if name := sdName(key); name != "" && m.params[name] != strings.ToValidUTF8(value, "\uFFFD") {
			t.Fatalf("value %q came back as %q", value, m.params[name])
		}
	})
}

func BenchmarkFormat(b *testing.B) {
	e := sample(1)
	b.ReportAllocs()
	for b.Loop() {
		Format(e, DefaultFacility, "1")
	}
}

func BenchmarkJSONL(b *testing.B) {
	j := NewJSONL(io.Discard)
	e := sample(1)
	b.ReportAllocs()
	for b.Loop() {
		j.Emit(e)
	}
}

// A line-per-message stream carries one message per line whatever line
// breaks the message holds.
func TestNewlineFramingBreaks(t *testing.T) {
	var buf bytes.Buffer
	s := NewSyslog(&buf)
	if err := s.Emit(Event{Host: "h", Kind: "k", Message: "one\rtwo\r\nthree\nfour"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || strings.Contains(out, "\r") || !strings.HasSuffix(out, "one two three four\n") {
		t.Errorf("%q", out)
	}
}
