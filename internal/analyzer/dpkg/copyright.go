package dpkg

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// debianToSPDX maps the short names used in Debian copyright files (DEP-5
// and /usr/share/common-licenses) to SPDX identifiers. Names not listed are
// reported as written.
var debianToSPDX = map[string]string{
	"gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later",
	"gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
	"gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later",
	"lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later",
	"lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later",
	"gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later",
	"gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later",
	"apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0",
	"artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0",
	"cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "curl": "curl", "openssl": "OpenSSL", "psf-2": "PSF-2.0",
	"python-2.0": "Python-2.0", "bsl-1.0": "BSL-1.0", "unicode-dfs-2016": "Unicode-DFS-2016",
	"x11": "X11", "ofl-1.1": "OFL-1.1", "wtfpl": "WTFPL", "unlicense": "Unlicense", "ftl": "FTL",
	"libpng": "Libpng", "ijg": "IJG", "gpl-2.0": "GPL-2.0-only", "gpl-2.0+": "GPL-2.0-or-later",
	"gpl-3.0": "GPL-3.0-only", "gpl-3.0+": "GPL-3.0-or-later", "lgpl-2.0+": "LGPL-2.0-or-later",
	"lgpl-3.0+": "LGPL-3.0-or-later", "lgpl-2.1-or-later": "LGPL-2.1-or-later",
	"gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-3.0-or-later": "GPL-3.0-or-later",
	"gpl-2.0-only": "GPL-2.0-only", "gpl-3.0-only": "GPL-3.0-only",
}

// commonLicenseRef finds references such as /usr/share/common-licenses/GPL-2
// in free-form copyright files.
var commonLicenseRef = regexp.MustCompile(`/usr/share/common-licenses/([A-Za-z0-9.+-]+[A-Za-z0-9+])`)

// CopyrightLicenses extracts licences from a Debian copyright file: the
// License: fields of a machine-readable (DEP-5) file, or else references to
// /usr/share/common-licenses. Results are SPDX ids where the name is known.
func CopyrightLicenses(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	add := func(l string) {
		if l == "" || seen[l] {
			return
		}
		seen[l] = true
		out = append(out, l)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 16<<10), maxLine)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("License:")) {
			continue
		}
		expr := strings.TrimSpace(string(line[len("License:"):]))
		for _, l := range splitExpression(expr) {
			add(normalize(l))
		}
	}
	if len(out) > 0 {
		return out
	}
	text := string(b)
	for _, m := range commonLicenseRef.FindAllStringSubmatch(text, -1) {
		name := strings.TrimSuffix(m[1], ".")
		if strings.HasPrefix(strings.ToLower(name), "gpl") || strings.HasPrefix(strings.ToLower(name), "lgpl") {
			if !strings.HasSuffix(name, "+") && strings.Contains(text, "any later version") {
				name += "+"
			}
		}
		add(normalize(name))
	}
	return out
}

// splitExpression splits a DEP-5 license expression ("GPL-2+ or Artistic",
// "LGPL-2.1+ and GPL-2+ with exception") into its licence names.
func splitExpression(expr string) []string {
	var out []string
	inException := false // after "with", until the next "and"/"or"
	for _, f := range strings.FieldsFunc(expr, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '(' || r == ')' }) {
		switch strings.ToLower(f) {
		case "or", "and", "and/or", "|", "&":
			inException = false
			continue
		case "with":
			inException = true
			continue
		}
		if inException || strings.ContainsAny(f, "\"'") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func normalize(name string) string {
	if s, ok := debianToSPDX[strings.ToLower(name)]; ok {
		return s
	}
	return name
}
