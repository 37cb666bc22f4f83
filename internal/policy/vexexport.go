package policy

import (
	"regexp"
	"time"
)

// Which exceptions are VEX material (bulkhead policy vex writes them with
// internal/vex).

// vulnIDRe recognises vulnerability identifiers; exceptions for secrets,
// misconfiguration checks and the like are not VEX material.
var vulnIDRe = regexp.MustCompile(`^(CVE-\d{4}-\d+|GHSA(-[0-9a-z]{4}){3}|[A-Z][A-Za-z]*-\d{4}-[0-9A-Za-z.:-]+|(DSA|DLA|DTSA|USN|RHSA|RLSA|ALSA|ALAS|ALAS2|ELSA|SUSE-SU|openSUSE-SU)-[0-9A-Za-z:.-]+|GO-\d{4}-\d+)$`)

// IsVulnID reports whether an exception id names a vulnerability.
func IsVulnID(id string) bool { return vulnIDRe.MatchString(id) }

// VEXExceptions returns the exceptions that are VEX material at now: not
// expired, and about a vulnerability id.
func VEXExceptions(ex []Exception, now time.Time) []Exception {
	var out []Exception
	for _, e := range ex {
		if !e.Expired(now) && IsVulnID(e.ID) {
			out = append(out, e)
		}
	}
	return out
}
