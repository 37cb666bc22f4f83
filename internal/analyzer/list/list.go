// Package list is the explicit registry of analyzers: every analyzer that
// bulkhead runs is named here, in order, with the tags that select it.
package list

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/apk"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/dotnet"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/dpkg"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/gobinary"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/gomod"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/imagefacts"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/java"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/javalock"
	misconfiga "github.com/bulkhead-sec/bulkhead/internal/analyzer/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/npm"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/npmlock"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/osrelease"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/php"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/python"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/pythonlock"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/rpm"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/ruby"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/rust"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Tags that select analyzers.
const (
	TagOS   = "os"   // operating system and its packages
	TagPkg  = "pkg"  // any package inventory
	TagLang = "lang" // language packages
	// TagDeclared marks analyzers of declared dependencies (lockfiles,
	// go.mod): they run on source trees (scan fs), not on images, where
	// what is installed is what counts.
	TagDeclared = "declared"
)

type entry struct {
	new  func() analyzer.Analyzer
	tags []string
}

var all = []entry{
	{func() analyzer.Analyzer { return osrelease.New() }, []string{TagOS}},
	{func() analyzer.Analyzer { return dpkg.New() }, []string{TagOS, TagPkg}},
	{func() analyzer.Analyzer { return apk.New() }, []string{TagOS, TagPkg}},
	{func() analyzer.Analyzer { return rpm.New() }, []string{TagOS, TagPkg}},
	{func() analyzer.Analyzer { return gobinary.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return npm.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return python.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return java.New() }, []string{TagLang, TagPkg}},
	// ruby, rust, php and dotnet read their installed metadata and their
	// lockfiles in one analyzer each.
	{func() analyzer.Analyzer { return ruby.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return rust.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return php.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return dotnet.New() }, []string{TagLang, TagPkg}},
	{func() analyzer.Analyzer { return gomod.New() }, []string{TagLang, TagPkg, TagDeclared}},
	{func() analyzer.Analyzer { return npmlock.New() }, []string{TagLang, TagPkg, TagDeclared}},
	{func() analyzer.Analyzer { return pythonlock.New() }, []string{TagLang, TagPkg, TagDeclared}},
	{func() analyzer.Analyzer { return javalock.New() }, []string{TagLang, TagPkg, TagDeclared}},
}

// Mode says what is being scanned.
type Mode int

const (
	// Image: an image or a root filesystem: installed software only.
	Image Mode = iota
	// SourceTree: a checkout: installed software and declared
	// dependencies (lockfiles, go.mod).
	SourceTree
)

// Scanners selects the analyzers beyond the package inventory.
type Scanners struct {
	Misconfig        bool
	MisconfigOptions misconfig.Options
	// Secret is the configured secret analyzer, nil when secrets are not
	// scanned for.
	Secret analyzer.Analyzer
	// Malware is the configured malware analyzer, nil when off.
	Malware analyzer.Analyzer
}

// For returns the analyzers for mode: the package analyzers (Default) and
// those the scanners ask for. Image scans check file facts (imagefacts);
// source trees check Dockerfiles, Kubernetes and Compose files.
func For(mode Mode, sc Scanners) (*analyzer.Group, error) {
	as := Default(mode).Analyzers()
	if sc.Secret != nil {
		as = append(as, sc.Secret)
	}
	if sc.Malware != nil {
		as = append(as, sc.Malware)
	}
	if sc.Misconfig {
		if mode == SourceTree {
			a, err := misconfiga.New(misconfiga.Config{Options: sc.MisconfigOptions})
			if err != nil {
				return nil, err
			}
			as = append(as, a)
		} else {
			as = append(as, imagefacts.New())
		}
	}
	return analyzer.NewGroup(as...)
}

// Default returns the package analyzers for mode.
func Default(mode Mode) *analyzer.Group {
	var as []analyzer.Analyzer
	for _, e := range all {
		if mode == Image && contains(e.tags, TagDeclared) {
			continue
		}
		as = append(as, e.new())
	}
	g, err := analyzer.NewGroup(as...)
	if err != nil {
		panic(err) // the registry itself is wrong: a programming error
	}
	return g
}

// Select returns the analyzers carrying any of tags, or naming one of them
// ("pkg/dpkg"); nil selects all.
func Select(tags []string) (*analyzer.Group, error) {
	var as []analyzer.Analyzer
	matched := map[string]bool{}
	for _, e := range all {
		a := e.new()
		if len(tags) == 0 {
			as = append(as, a)
			continue
		}
		selected := false
		for _, t := range tags {
			if t == a.Name() || contains(e.tags, t) {
				selected = true
				matched[t] = true
			}
		}
		if selected {
			as = append(as, a)
		}
	}
	for _, t := range tags {
		if !matched[t] {
			return nil, fmt.Errorf("no analyzer named or tagged %q (known: %s)", t, strings.Join(Names(), ", "))
		}
	}
	return analyzer.NewGroup(as...)
}

// Names lists every analyzer name.
func Names() []string {
	var out []string
	for _, e := range all {
		out = append(out, e.new().Name())
	}
	sort.Strings(out)
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
