// Package redact masks credentials in command lines and URLs before they
// reach a report, a log, a snapshot or a SIEM: container commands
// (inventory), processes (drift) and daemon flags (audit) all pass
// through it, so they mask the same things the same way.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces a secret value.
const Mask = "****"

// secretWord marks an argument name whose value is a secret.
var secretWord = regexp.MustCompile(`(?i)(pass|secret|token|key|auth|cred|pwd)`)

// userinfo is the password part of a URL: scheme://user:PASSWORD@host.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):[^@\s/]*@`)

// Userinfo masks the passwords of the URLs in s
// ("postgres://u:pw@db/x" → "postgres://u:****@db/x").
func Userinfo(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}:"+Mask+"@")
}

// Args masks the values of arguments that look like secrets:
// "--password=x" and "--opt=token=x" keep their key, "--password x" and
// "--api-key x" lose the next argument, URL passwords anywhere are masked,
// and an argument that is itself a command line ("sh -c 'app --token x'")
// is masked word by word. args is not changed.
func Args(args []string) []string {
	out := make([]string, len(args))
	maskNext := false
	for i, s := range args {
		switch {
		case maskNext && !strings.HasPrefix(s, "-"):
			s = Mask
			maskNext = false
		case strings.ContainsAny(s, " \t\n"):
			// A script or command line in one argument: its words.
			s = strings.Join(Args(strings.Fields(s)), " ")
			maskNext = false
		case strings.Contains(s, "="):
			// A secret word anywhere before the last '=' masks the value.
			if secretWord.MatchString(s[:strings.LastIndexByte(s, '=')]) {
				k, _, _ := strings.Cut(s, "=")
				s = k + "=" + Mask
			}
			maskNext = false
		default:
			maskNext = strings.HasPrefix(s, "-") && secretWord.MatchString(s)
		}
		out[i] = Userinfo(s)
	}
	return out
}
