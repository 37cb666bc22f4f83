package secret

import (
	"bytes"
	"regexp"
	"strings"
)

// knownExamples are credentials that vendors publish in their documentation
// or ship as fixed development defaults. They are reported with
// Example=true, never as live secrets.
var knownExamples = map[string]bool{
	// AWS documentation (the AKIA…EXAMPLE ids are caught by the word too).
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": true,
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY": true,
	// Azurite / the Azure Storage Emulator's fixed account key.
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==": true,
	// Stripe's documented test keys.
	"sk_test_4eC39HqLyjWDarjtT1zdp7dc": true,
	"sk_test_BQokikJOvBiI2HlWgH4olfQ2": true,
}

// exampleMarkers are substrings of the secret (case-insensitive) that only
// documentation uses: jwt.io's sample payload {"sub":"1234567890",...}.
var exampleMarkers = []string{
	"example",
	"eyjzdwiioiixmjm0nty3odkwiiwibmftzsi6ikpvag4gra", // {"sub":"1234567890","name":"John D…
}

// exampleHost matches the reserved documentation domains in a URL match.
var exampleHost = regexp.MustCompile(`(?i)@[a-z0-9.-]*\bexample\.(?:com|org|net)\b|@[a-z0-9.-]*\.(?:example|invalid|test)(?:[:/?#]|$)`)

// isExample reports whether a found secret is a well-known example value.
func isExample(secret, match string) bool {
	if knownExamples[secret] {
		return true
	}
	low := strings.ToLower(secret)
	for _, m := range exampleMarkers {
		if strings.Contains(low, m) {
			return true
		}
	}
	return exampleHost.MatchString(match)
}

// placeholderWords are values that stand for a secret instead of being
// one: template defaults, documentation stand-ins and well-known defaults
// that are not worth an alert on their own (compared case-insensitively,
// after trimming quotes).
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "token": true,
	"apikey": true, "api_key": true, "api-key": true, "key": true, "value": true, "string": true,
	"changeme": true, "change_me": true, "change-me": true, "changeit": true, "changethis": true,
	"admin": true, "root": true, "guest": true, "user": true, "username": true, "test": true,
	"testing": true, "default": true, "null": true, "nil": true, "none": true, "true": true,
	"false": true, "undefined": true, "empty": true, "required": true, "optional": true,
	"postgres": true, "mysql": true, "redis": true, "mongo": true, "rabbitmq": true, "foo": true,
	"bar": true, "foobar": true, "baz": true, "qwerty": true, "letmein": true, "mypassword": true,
	"mysecret": true, "mysecretpassword": true, "secretpassword": true, "supersecret": true,
	"yourpassword": true, "your_password": true, "password123": true, "p@ssw0rd": true,
	"passw0rd": true, "s3cr3t": true, "secret123": true, "pa55word": true, "hunter2": true,
	"password_here": true, "put your unique phrase here": true, "xyz": true, "abc": true,
	"abc123": true, "123456": true, "12345678": true, "1234567890": true, "sekret": true,
	"private": true, "public": true, "psw": true, "pw": true, "redacted": true, "masked": true, "hidden": true,
}

// placeholderMarkers are substrings that mark a value as a stand-in.
var placeholderMarkers = []string{
	"${", "{{", "}}", "<%", "%>", "%(", "$(", "#{", "<", ">", "xxxx", "****", "...", "…",
	"placeholder", "redacted", "changeme", "change_me", "your_", "your-", "yourpass", "dummy",
	"notreal", "not_real", "not-a-real", "fake", "insert_", "insert-", "replace_", "replace-",
	"_here", "-here",
}

// maxPlaceholderLen bounds the values whose substrings can mark them as a
// stand-in.
const maxPlaceholderLen = 96

// isPlaceholder reports whether a candidate is obviously not a real
// secret: template syntax, a variable reference, a stand-in word, or a
// string with almost no variety ("aaaaaaaa", "abababab").
func isPlaceholder(s string) bool {
	t := strings.Trim(s, `"'`+"`")
	if t == "" {
		return true
	}
	low := strings.ToLower(t)
	if placeholderWords[low] {
		return true
	}
	// Stand-ins are short; in a long random body (a private key's
	// base64) "fake", "xxxx" or "-here" turn up by chance, and one in
	// twenty real RSA keys was dropped that way. Only truncation marks
	// count there.
	markers := placeholderMarkers
	if len(t) > maxPlaceholderLen {
		markers = []string{"...", "…", "${", "{{"}
	}
	for _, m := range markers {
		if strings.Contains(low, m) {
			return true
		}
	}
	if low[0] == '$' || low[0] == '%' { // $VAR, %ENV%
		return true
	}
	if len(t) >= 6 {
		var seen [256]bool
		distinct := 0
		for i := 0; i < len(t); i++ {
			if !seen[t[i]] {
				seen[t[i]] = true
				distinct++
			}
		}
		if distinct <= 3 {
			return true
		}
		if strings.Contains("0123456789abcdefghijklmnopqrstuvwxyz", low) || strings.Contains("9876543210", low) {
			return true
		}
	}
	return false
}

// contextMarkers, on the line of a match or just before it, mark
// documentation: "ex: HRKU-…", "// e.g. ghp_…", "examples:".
var contextMarkers = []string{"example", "e.g.", "ex:", "sample", "dummy", "for instance"}

// contextLines is how many lines before a match are read for markers.
const contextLines = 3

// exampleContext reports whether the line holding buf[ms:] or one of the
// contextLines before it reads like documentation.
func exampleContext(buf []byte, ms int) bool {
	ctx := buf[max(0, ms-contextLines*maxLine):ms]
	end := len(ctx)
	for n := 0; n <= contextLines; n++ { // this line and contextLines before it
		i := bytes.LastIndexByte(ctx[:end], '\n')
		if i < 0 {
			break
		}
		if n == contextLines {
			ctx = ctx[i+1:]
			break
		}
		end = i
	}
	for _, m := range contextMarkers {
		if containsFold(ctx, m) {
			return true
		}
	}
	return false
}

// containsFold is a case-insensitive bytes.Contains for an ASCII,
// lower-case needle, without allocating.
func containsFold(b []byte, needle string) bool {
	n := len(needle)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for j < n && lowerASCII(b[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// DefaultLowSeverityPaths matches paths of tests, fixtures, examples and
// documentation. Findings there are still reported, but with severity LOW:
// a key in a test suite shipped inside a package is a fixture, not a leak.
var DefaultLowSeverityPaths = regexp.MustCompile(`(?i)` +
	// directories
	`(?:^|/)(?:tests?|testing|test[_-]?[a-z]*|[a-z]*[_-]tests?|__tests__|__mocks__|__fixtures__|spec|specs|fixtures?|` +
	`mocks?|examples?|samples?|docs?|demos?)(?:/|$)` +
	// file names: foo_test.go, keys_test_data.go, x.test.js, test_x.py, x.spec.ts
	`|(?:^|/)[^/]*[_.-](?:test|tests|spec)(?:[_.-][^/]*)?$|(?:^|/)test_[^/]*$` +
	// documentation and API examples
	`|\.(?:md|markdown|rst|adoc)$|[._-]examples?\.(?:json|ya?ml)$`)
