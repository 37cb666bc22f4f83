package report

import "testing"

func TestClassifyLicense(t *testing.T) {
	tests := []struct {
		in   string
		want string
		kind licenseKind
	}{
		{"MIT", "MIT", licenseID},
		{" apache-2.0 ", "Apache-2.0", licenseID},
		{"GPL-2.0+", "GPL-2.0+", licenseID},
		{"LGPL-2.1-or-later", "LGPL-2.1-or-later", licenseID},
		{"Apache-2.0+", "Apache-2.0+", licenseExpression},
		{"MIT OR Apache-2.0", "MIT OR Apache-2.0", licenseExpression},
		{"mit and (apache-2.0 or bsd-3-clause)", "MIT AND (Apache-2.0 OR BSD-3-Clause)", licenseExpression},
		{"(MIT)", "(MIT)", licenseExpression},
		{"GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0", licenseExpression},
		{"GPL-2.0-or-later WITH MIT", "GPL-2.0-or-later WITH MIT", licenseName},
		{"GPL-2.0-or-later WITH", "GPL-2.0-or-later WITH", licenseName},
		{"MIT AND", "MIT AND", licenseName},
		{"(MIT OR Apache-2.0", "(MIT OR Apache-2.0", licenseName},
		{"MIT Apache-2.0", "MIT Apache-2.0", licenseName},
		{"GPL-2+", "GPL-2+", licenseName},
		{"ASL 2.0", "ASL 2.0", licenseName},
		{"public-domain", "public-domain", licenseName},
		{"LicenseRef-acme", "LicenseRef-acme", licenseName},
		{"", "", licenseName},
	}
	for _, tc := range tests {
		got, kind := classifyLicense(tc.in)
		if got != tc.want || kind != tc.kind {
			t.Errorf("classifyLicense(%q) = %q, %d; want %q, %d", tc.in, got, kind, tc.want, tc.kind)
		}
	}
}

func TestJoinLicenses(t *testing.T) {
	tests := []struct {
		in   []string
		want string
		ok   bool
	}{
		{nil, "", false},
		{[]string{"GPL-2.0-only", "LGPL-2.1-or-later"}, "GPL-2.0-only AND LGPL-2.1-or-later", true},
		{[]string{"MIT OR Apache-2.0"}, "MIT OR Apache-2.0", true},
		{[]string{"MIT OR Apache-2.0", "MIT OR Apache-2.0"}, "MIT OR Apache-2.0", true},
		{[]string{"MIT OR Apache-2.0", "Zlib"}, "(MIT OR Apache-2.0) AND Zlib", true},
		{[]string{"MIT", "Expat"}, "", false},
	}
	for _, tc := range tests {
		got, ok := joinLicenses(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("joinLicenses(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSPDXListLoaded(t *testing.T) {
	licenses, exceptions := spdxIDs()
	if len(licenses) < 600 || len(exceptions) < 40 {
		t.Errorf("SPDX list has %d licences and %d exceptions; the embedded files look truncated", len(licenses), len(exceptions))
	}
}
