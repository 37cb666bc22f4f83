package report

import (
	"regexp"
	"strings"
	"testing"
)

// A secret is only ever written as the scanner masked it. The inventory
// never holds the secret itself, so there is nothing else to leak; the
// test pins that every writer shows the masked form, as given, and that
// the formats without secrets do not mention them.
func TestSecretsStayMasked(t *testing.T) {
	// "AKIA" followed by anything but the mask.
	unmasked := regexp.MustCompile(`AKIA\*{0,3}[^*]`)
	for _, f := range goldenFormats {
		t.Run(f.format, func(t *testing.T) {
			out := string(write(t, f.format, vulnerableImage()))
			if loc := unmasked.FindStringIndex(out); loc != nil {
				t.Errorf("unmasked key material at byte %d: %q", loc[0], out[loc[0]:min(loc[1]+8, len(out))])
			}
			n := strings.Count(out, awsKeyMasked)
			switch f.format {
			case FormatCycloneDXJSON, FormatSPDXJSON, FormatGitLab:
				if n != 0 || strings.Contains(out, "AKIA") {
					t.Errorf("%s carries secrets: %d masked matches", f.format, n)
				}
			default:
				if n == 0 {
					t.Errorf("the masked match %q does not appear", awsKeyMasked)
				}
				if strings.Count(out, "AKIA") != n {
					t.Errorf(`"AKIA" appears %d times, the masked form %d times`, strings.Count(out, "AKIA"), n)
				}
			}
		})
	}
}
