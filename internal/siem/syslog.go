package siem

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	appName = "bulkhead"
	// sdID names bulkhead's structured-data element. 32473 is the private
	// enterprise number RFC 5612 reserves for documentation; a site that
	// owns a number can swap it here.
	sdID = "bulkhead@32473"
	// DefaultFacility is 13, "log audit".
	DefaultFacility = 13
	// maxUDP keeps a datagram under the IPv4 UDP payload limit.
	maxUDP = 65000
)

// Framing says how messages are delimited on a stream.
type Framing int

const (
	// Newline ends each message with "\n" (stdout, files, RFC 6587 non-transparent framing).
	Newline Framing = iota
	// OctetCounting prefixes each message with its length and a space (RFC 6587 3.4.1).
	OctetCounting
	// Datagram writes each message in one Write (UDP, RFC 5426).
	Datagram
)

// Syslog writes RFC 5424 messages.
type Syslog struct {
	mu       sync.Mutex
	w        io.Writer
	closer   io.Closer
	framing  Framing
	facility int
	procID   string
	redial   func() (net.Conn, error)
}

// NewSyslog writes RFC 5424 messages to w, one per line.
func NewSyslog(w io.Writer) *Syslog {
	return &Syslog{w: w, framing: Newline, facility: DefaultFacility, procID: strconv.Itoa(os.Getpid())}
}

// Dial connects to a syslog collector named by a URL: udp://host:port or
// tcp://host:port (port defaults to 514). TCP uses octet-counting framing.
func Dial(rawURL string) (*Syslog, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("syslog address %q: want udp://HOST:PORT or tcp://HOST:PORT", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "514")
	}
	var framing Framing
	switch u.Scheme {
	case "udp", "udp4", "udp6":
		framing = Datagram
	case "tcp", "tcp4", "tcp6":
		framing = OctetCounting
	default:
		return nil, fmt.Errorf("syslog address %q: scheme %q is not udp or tcp", rawURL, u.Scheme)
	}
	dial := func() (net.Conn, error) { return net.DialTimeout(u.Scheme, host, 5*time.Second) }
	conn, err := dial()
	if err != nil {
		return nil, fmt.Errorf("connect to syslog collector %s: %w", rawURL, err)
	}
	s := NewSyslog(conn)
	s.closer, s.framing = conn, framing
	if framing == OctetCounting {
		s.redial = dial
	}
	return s, nil
}

// SetFacility changes the syslog facility (0-23).
func (s *Syslog) SetFacility(f int) {
	if f >= 0 && f <= 23 {
		s.facility = f
	}
}

// Emit formats e and writes it. A TCP connection that broke is dialled
// again once.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func (s *Syslog) Emit(e Event) error {
	msg := Format(e, s.facility, s.procID)
	if s.framing == Datagram && len(msg) > maxUDP {
		msg = msg[:maxUDP]
	}
	var frame []byte
	switch s.framing {
	case Newline:
		// A line-per-message stream cannot carry a line break inside one
		// (a bare CR ends a line for some collectors too).
		frame = append([]byte(lineBreaks.Replace(string(msg))), '\n')
	case OctetCounting:
		frame = append(strconv.AppendInt(nil, int64(len(msg)), 10), ' ')
		frame = append(frame, msg...)
	default:
		frame = msg
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.write(frame)
	if err != nil && s.redial != nil {
		if conn, derr := s.redial(); derr == nil {
			s.closer.Close()
			s.w, s.closer = conn, conn
			err = s.write(frame)
		}
	}
	if err != nil {
		return fmt.Errorf("send syslog message: %w", err)
	}
	return nil
}

func (s *Syslog) write(b []byte) error {
	if c, ok := s.w.(net.Conn); ok {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	}
	_, err := s.w.Write(b)
	return err
}

// Close closes the connection Dial opened; a writer given to NewSyslog is
// left open.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// Format renders e as one RFC 5424 message (no framing):
//
//	<PRI>1 TIMESTAMP HOSTNAME bulkhead PROCID KIND [bulkhead@32473 k="v" ...] MESSAGE
func Format(e Event, facility int, procID string) []byte {
	e.fill()
	var b bytes.Buffer
	sev := e.Severity
	if sev < Emergency || sev > Debug {
		sev = Informational
	}
	fmt.Fprintf(&b, "<%d>1 %s %s %s %s %s ", facility*8+int(sev),
		e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		header(e.Host, 255), appName, header(procID, 128), header(e.Kind, 32))
	fields := map[string]string{}
	flatten("", e.Data, fields)
	b.WriteString("[" + sdID)
	for _, k := range sortedKeys(fields) {
		name := sdName(k)
		if name == "" {
			continue
		}
		b.WriteString(" " + name + `="`)
		writeParamValue(&b, fields[k])
		b.WriteByte('"')
	}
	b.WriteByte(']')
	if e.Message != "" {
		b.WriteByte(' ')
		b.WriteString(strings.ToValidUTF8(e.Message, "\uFFFD"))
	}
	return b.Bytes()
}

// header keeps a header field to PRINTUSASCII, at most n bytes, "-" when empty.
func header(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c >= 33 && c <= 126 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// sdName keeps a PARAM-NAME legal: PRINTUSASCII except '=', ' ', ']', '"', at most 32.
func sdName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 32; i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			c = '_'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// writeParamValue escapes '"', '\' and ']' (RFC 5424 section 6.3.3).
func writeParamValue(b *bytes.Buffer, v string) {
	for _, r := range strings.ToValidUTF8(v, "\uFFFD") {
		switch r {
		case '"', '\\', ']':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}
