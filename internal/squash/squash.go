// Package squash merges per-layer analysis results into one inventory, the
// way a container runtime stacks layers: in order, with whiteouts and opaque
// directories of a layer hiding what lower layers put there. It also keeps
// what was hidden, because a deleted file is still shipped in the image.
package squash

import (
	"path"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/osrelease"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/purl"
)

// LayerResult is everything learned from one layer (or from a directory,
// as a single pseudo-layer). It is what the layer cache stores.
type LayerResult struct {
	DiffID     string                `json:"diffID"`
	Files      []analyzer.FileResult `json:"files,omitempty"`
	Whiteouts  []string              `json:"whiteouts,omitempty"`
	OpaqueDirs []string              `json:"opaqueDirs,omitempty"`
	Symlinks   map[string]string     `json:"symlinks,omitempty"`
	Warnings   []string              `json:"warnings,omitempty"`
	FileCount  int                   `json:"fileCount"`
	Bytes      int64                 `json:"bytes"`
}

// Deleted is an analysis result for a file that a later layer removed or
// replaced: the file is gone from the final filesystem but still ships in
// the layer that added it.
type Deleted struct {
	analyzer.FileResult
	AddedIn   int  // layer index
	DeletedIn int  // layer index
	Replaced  bool // a newer version of the file, not a whiteout
}

// Output is the merged view.
type Output struct {
	Inventory inventory.Inventory
	Deleted   []Deleted
	// Symlinks of the final filesystem, for Resolve.
	Symlinks map[string]string
	// Misconfigs found in files of the final filesystem, with the layer
	// that added each file (image checks group and explain them).
	Misconfigs []misconfig.Finding
}

type entry struct {
	layer int
	fr    analyzer.FileResult
}

// history of one (path, analyzer) since it was last deleted: the package
// keys present in each layer that wrote it.
type history struct {
	layers []int
	keys   []map[string]bool
}

// Apply merges layers, given in image order, with their metadata.
func Apply(layers []inventory.Layer, results []*LayerResult) *Output {
	state := map[string]map[string]entry{} // path → analyzer → entry
	hist := map[string]*history{}          // path+"\x00"+analyzer
	links := map[string]string{}
	out := &Output{}

	// removeHidden drops everything a layer's whiteouts and opaque dirs
	// hide: one pass over what is known, checking each path's ancestors
	// against the layer's markers, so a layer of many whiteouts costs
	// O(known paths × depth), not O(known paths × whiteouts).
	removeHidden := func(lr *LayerResult, by int) {
		if len(lr.Whiteouts) == 0 && len(lr.OpaqueDirs) == 0 {
			return
		}
		wh := make(map[string]bool, len(lr.Whiteouts))
		for _, w := range lr.Whiteouts {
			wh[w] = true
		}
		opq := make(map[string]bool, len(lr.OpaqueDirs))
		for _, d := range lr.OpaqueDirs {
			opq[d] = true
		}
		hidden := func(p string) bool {
			if wh[p] {
				return true
			}
			for d := path.Dir(p); ; d = path.Dir(d) {
				if wh[d] || opq[d] {
					return true
				}
				if d == "/" {
					return false
				}
			}
		}
		for fp, byAnalyzer := range state {
			if !hidden(fp) {
				continue
			}
			for an, e := range byAnalyzer {
				out.Deleted = append(out.Deleted, Deleted{FileResult: e.fr, AddedIn: e.layer, DeletedIn: by})
				delete(hist, fp+"\x00"+an)
			}
			delete(state, fp)
		}
		for lp := range links {
			if hidden(lp) {
				delete(links, lp)
			}
		}
	}

	for i, lr := range results {
		if lr == nil {
			continue
		}
		removeHidden(lr, i)
		for lp, t := range lr.Symlinks {
			links[lp] = t
		}
		for _, fr := range lr.Files {
			if state[fr.Path] == nil {
				state[fr.Path] = map[string]entry{}
			}
			if old, ok := state[fr.Path][fr.Analyzer]; ok && old.layer != i {
				// Replaced by a newer version of the file: the old one
				// still ships in its layer.
				out.Deleted = append(out.Deleted, Deleted{FileResult: old.fr, AddedIn: old.layer, DeletedIn: i, Replaced: true})
			}
			state[fr.Path][fr.Analyzer] = entry{layer: i, fr: fr}
			hk := fr.Path + "\x00" + fr.Analyzer
			h := hist[hk]
			if h == nil {
				h = &history{}
				hist[hk] = h
			}
			keys := map[string]bool{}
			if fr.Result != nil {
				for _, p := range fr.Result.Packages {
					keys[p.Key()] = true
				}
			}
			h.layers = append(h.layers, i)
			h.keys = append(h.keys, keys)
		}
	}
	// Opaque-dir removal above also removed entries under the dir that the
	// same layer added; re-adding is unnecessary because files of a layer
	// are recorded after its own opaque markers are applied.

	paths := make([]string, 0, len(state))
	for p := range state {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	loc := func(p string, layer int) inventory.Location {
		l := inventory.Location{Path: p, LayerIndex: layer}
		if layer >= 0 && layer < len(layers) {
			l.LayerDiffID = layers[layer].DiffID
			l.CreatedBy = layers[layer].CreatedBy
		}
		return l
	}

	inv := &out.Inventory
	osFound := map[string]*inventory.OS{}
	licenses := map[string][]string{} // type\x00name → licences
	var owned []analyzer.OwnedFiles
	byKey := map[string]int{} // package key → index in inv.Packages
	for _, p := range paths {
		ans := make([]string, 0, len(state[p]))
		for an := range state[p] {
			ans = append(ans, an)
		}
		sort.Strings(ans)
		for _, an := range ans {
			e := state[p][an]
			if e.fr.Error != "" {
				w := inventory.Warning{Analyzer: an, Path: p, Message: e.fr.Error}
				if e.layer < len(layers) && e.layer >= 0 {
					w.Layer = layers[e.layer].DiffID
				}
				inv.Warnings = append(inv.Warnings, w)
			}
			r := e.fr.Result
			if r == nil {
				continue
			}
			if r.OS != nil {
				o := *r.OS
				o.Location = loc(p, e.layer)
				osFound[p] = &o
			}
			for _, l := range r.Licenses {
				licenses[l.Type+"\x00"+l.Name] = l.Licenses
			}
			owned = append(owned, r.Owned...)
			for _, m := range r.Misconfigs {
				if e.layer >= 0 && e.layer < len(layers) {
					l := e.layer
					if m.LayerIndex == nil {
						m.LayerIndex = &l
					}
					if m.LayerDiffID == "" {
						m.LayerDiffID = layers[l].DiffID
					}
					if m.CreatedBy == "" {
						m.CreatedBy = layers[l].CreatedBy
					}
				}
				out.Misconfigs = append(out.Misconfigs, m)
			}
			h := hist[p+"\x00"+an]
			for _, pkg := range r.Packages {
				origin := originLayer(h, pkg.Key(), e.layer)
				pkg.Locations = []inventory.Location{loc(p, origin)}
				if j, ok := byKey[pkg.Key()]; ok {
					inv.Packages[j].Locations = append(inv.Packages[j].Locations, pkg.Locations...)
					inv.Packages[j].Dev = inv.Packages[j].Dev && pkg.Dev
					continue
				}
				byKey[pkg.Key()] = len(inv.Packages)
				inv.Packages = append(inv.Packages, pkg)
			}
		}
	}
	inv.OS = osrelease.Pick(osFound)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if len(p.Licenses) == 0 {
			p.Licenses = lookupLicenses(licenses, links, p)
		}
		if p.PURL == "" || purl.IsOSType(p.Type) {
			p.PURL = purl.ForPackage(p, inv.OS)
		}
	}
	inv.Packages = foldOwned(inv.Packages, owned, links)
	inv.Secrets = collectSecrets(layers, state, out.Deleted)
	inv.Malware = collectMalware(layers, state, out.Deleted)
	inventory.SortPackages(inv.Packages)
	sort.Slice(out.Deleted, func(i, j int) bool {
		a, b := out.Deleted[i], out.Deleted[j]
		if a.DeletedIn != b.DeletedIn {
			return a.DeletedIn < b.DeletedIn
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Analyzer < b.Analyzer
	})
	out.Symlinks = links
	return out
}

// collectSecrets lists every secret of every layer: a file deleted or
// replaced by a later layer still ships its secret in the layer that added
// it. One finding per (path, rule, fingerprint, line): the layer that
// first shipped it, and the layer that removed it when the final
// filesystem no longer has it.
func collectSecrets(layers []inventory.Layer, state map[string]map[string]entry, deleted []Deleted) []inventory.Secret {
	type key struct {
		path, rule, fp string
		line           int
	}
	type agg struct {
		s         inventory.Secret
		added     int
		present   bool
		deletedIn int
	}
	found := map[key]*agg{}
	var order []key
	add := func(fr analyzer.FileResult, layer int, present bool, deletedIn int) {
		if fr.Result == nil {
			return
		}
		for _, sec := range fr.Result.Secrets {
			k := key{sec.Path, sec.RuleID, sec.Fingerprint, sec.Line}
			a := found[k]
			if a == nil {
				a = &agg{s: sec, added: layer, deletedIn: -1}
				found[k] = a
				order = append(order, k)
			}
			if layer < a.added {
				a.added = layer
			}
			a.present = a.present || present
			if !present && deletedIn > a.deletedIn {
				a.deletedIn = deletedIn
			}
		}
	}
	for _, byAnalyzer := range state {
		for _, e := range byAnalyzer {
			add(e.fr, e.layer, true, -1)
		}
	}
	for _, d := range deleted {
		add(d.FileResult, d.AddedIn, false, d.DeletedIn)
	}
	var out []inventory.Secret
	for _, k := range order {
		a := found[k]
		s := a.s
		s.LayerIndex = a.added
		if a.added >= 0 && a.added < len(layers) {
			s.LayerDiffID = layers[a.added].DiffID
			s.CreatedBy = layers[a.added].CreatedBy
		}
		if !a.present && a.deletedIn >= 0 {
			d := a.deletedIn
			s.DeletedInLayer = &d
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := inventory.SeverityRank(a.Severity), inventory.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.RuleID < b.RuleID
	})
	return out
}

// collectMalware lists every malware hit of every layer, like
// collectSecrets: the layer that first shipped the file, and the one that
// removed it when the final filesystem no longer has it.
func collectMalware(layers []inventory.Layer, state map[string]map[string]entry, deleted []Deleted) []inventory.Malware {
	type agg struct {
		m                inventory.Malware
		added, deletedIn int
		present          bool
	}
	found := map[string]*agg{}
	add := func(fr analyzer.FileResult, layer int, present bool, deletedIn int) {
		if fr.Result == nil {
			return
		}
		for _, m := range fr.Result.Malware {
			k := m.Path + "\x00" + m.Signature + "\x00" + m.SHA256 + m.SHA1 + m.MD5
			a := found[k]
			if a == nil {
				a = &agg{m: m, added: layer, deletedIn: -1}
				found[k] = a
			}
			a.added = min(a.added, layer)
			a.present = a.present || present
			if !present {
				a.deletedIn = max(a.deletedIn, deletedIn)
			}
		}
	}
	for _, byAnalyzer := range state {
		for _, e := range byAnalyzer {
			add(e.fr, e.layer, true, -1)
		}
	}
	for _, d := range deleted {
		add(d.FileResult, d.AddedIn, false, d.DeletedIn)
	}
	var out []inventory.Malware
	for _, a := range found {
		m := a.m
		m.LayerIndex = a.added
		if a.added >= 0 && a.added < len(layers) {
			m.LayerDiffID, m.CreatedBy = layers[a.added].DiffID, layers[a.added].CreatedBy
		}
		if !a.present && a.deletedIn >= 0 {
			d := a.deletedIn
			m.DeletedInLayer = &d
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Signature < out[j].Signature
	})
	return out
}

// foldOwned reports a language package that an OS package installed (its
// files are in the OS package's file list) once, as the OS package, with
// the language PURL kept in OtherPURLs: the distro's advisories (which
// know its backports) apply, and nothing is counted twice.
func foldOwned(pkgs []inventory.Package, owned []analyzer.OwnedFiles, links map[string]string) []inventory.Package {
	if len(owned) == 0 {
		return pkgs
	}
	// Candidate paths: language package locations and their parents.
	want := map[string]bool{}
	for _, p := range pkgs {
		if purl.IsOSType(p.Type) {
			continue
		}
		for _, l := range p.Locations {
			for d := l.Path; d != "/" && d != "."; d = path.Dir(d) {
				want[d] = true
			}
		}
	}
	if len(want) == 0 {
		return pkgs
	}
	owner := map[string]string{} // path → type\x00package
	for _, o := range owned {
		for _, fp := range o.Paths {
			if r, ok := Resolve(links, fp); ok && want[r] {
				owner[r] = o.Type + "\x00" + o.Package
			} else if want[fp] {
				owner[fp] = o.Type + "\x00" + o.Package
			}
		}
	}
	osIndex := map[string]int{}
	for i, p := range pkgs {
		if purl.IsOSType(p.Type) {
			osIndex[p.Type+"\x00"+p.Name] = i
		}
	}
	// Each location is folded on its own: a package found at an owned path
	// and at a copy nobody owns (a jar copied out of /usr/share/java) keeps
	// the unowned locations and stays a package of its own.
	ownerOf := func(p string) (int, bool) {
		for d := p; d != "/" && d != "."; d = path.Dir(d) {
			if i, ok := osIndex[owner[d]]; ok {
				return i, true
			}
		}
		return 0, false
	}
	// First record every fold (the OS package may come before or after the
	// language package in pkgs), then keep what is left.
	left := make([][]inventory.Location, len(pkgs)) // nil: not folded at all
	for j, p := range pkgs {
		if purl.IsOSType(p.Type) {
			continue
		}
		for _, l := range p.Locations {
			i, ok := ownerOf(l.Path)
			if !ok {
				continue
			}
			if left[j] == nil {
				left[j] = []inventory.Location{}
			}
			if p.PURL != "" && !contains(pkgs[i].OtherPURLs, p.PURL) {
				pkgs[i].OtherPURLs = append(pkgs[i].OtherPURLs, p.PURL)
			}
		}
		if left[j] != nil {
			for _, l := range p.Locations {
				if _, ok := ownerOf(l.Path); !ok {
					left[j] = append(left[j], l)
				}
			}
		}
	}
	kept := pkgs[:0:0]
	for j, p := range pkgs {
		switch {
		case left[j] == nil:
			kept = append(kept, p)
		case len(left[j]) > 0:
			p.Locations = left[j]
			kept = append(kept, p)
		}
	}
	return kept
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// originLayer finds the layer that introduced a package: walking back from
// the layer whose file is current, the earliest layer of an unbroken run in
// which the same file listed the same package.
func originLayer(h *history, key string, current int) int {
	if h == nil {
		return current
	}
	origin := current
	for i := len(h.layers) - 1; i >= 0; i-- {
		if h.layers[i] > current {
			continue
		}
		if !h.keys[i][key] {
			break
		}
		origin = h.layers[i]
	}
	return origin
}

// lookupLicenses joins licence facts to a package by name; Debian packages
// whose doc directory is a symlink to another package's take that one's.
func lookupLicenses(licenses map[string][]string, links map[string]string, p *inventory.Package) []string {
	if l := licenses[p.Type+"\x00"+p.Name]; len(l) > 0 {
		return l
	}
	if p.Type == inventory.TypeDeb {
		dir := "/usr/share/doc/" + p.Name
		if r, ok := Resolve(links, dir); ok && r != dir && path.Dir(r) == "/usr/share/doc" {
			return licenses[p.Type+"\x00"+path.Base(r)]
		}
	}
	return nil
}

// maxHops bounds symlink resolution, as the kernel's ELOOP does.
const maxHops = 40

// Resolve follows symlinks in p, component by component, within the image:
// absolute targets are taken relative to the image root and ".." never
// leaves it. It reports false for a loop or too many hops.
func Resolve(links map[string]string, p string) (string, bool) {
	p = path.Clean("/" + p)
	hops := 0
	resolved := "/"
	rest := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		next := path.Join(resolved, part)
		t, ok := links[next]
		if !ok {
			resolved = next
			continue
		}
		hops++
		if hops > maxHops {
			return "", false
		}
		var target string
		if strings.HasPrefix(t, "/") {
			target = path.Clean(t)
		} else {
			target = path.Clean(path.Join(resolved, t))
		}
		// Start again from the root with the target followed by the rest.
		rest = append(strings.Split(strings.TrimPrefix(target, "/"), "/"), rest...)
		resolved = "/"
	}
	return resolved, true
}
