package javalock

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"sort"
	"strings"
)

// maxDeps bounds the dependencies read from one pom.
const maxDeps = 20_000

type pomDep struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Scope      string `xml:"scope"`
	Type       string `xml:"type"`
}

type pomProperties struct {
	Entries map[string]string
}

// UnmarshalXML reads <properties> as name → value, whatever the names.
func (p *pomProperties) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	p.Entries = map[string]string{}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var v string
			if err := d.DecodeElement(&v, &t); err != nil {
				return err
			}
			if len(p.Entries) < maxDeps {
				p.Entries[t.Name.Local] = strings.TrimSpace(v)
			}
		case xml.EndElement:
			return nil
		}
	}
}

type pomProject struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Parent     struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
	} `xml:"parent"`
	Properties           pomProperties `xml:"properties"`
	DependencyManagement struct {
		Dependencies []pomDep `xml:"dependencies>dependency"`
	} `xml:"dependencyManagement"`
	Dependencies []pomDep `xml:"dependencies>dependency"`
	Profiles     []struct {
		Dependencies []pomDep `xml:"dependencies>dependency"`
	} `xml:"profiles>profile"`
}

// ParsePOM reads the dependencies a pom.xml declares, with versions from
// the dependency itself or the file's dependencyManagement, ${...}
// resolved from the file's properties and project coordinates. What the
// file alone cannot resolve (a property of a parent pom, a version range,
// a version from an imported BOM) is listed in missing, not guessed.
// Test-scoped dependencies are Dev; provided, system and import-scope
// entries (BOMs) are not dependencies that ship.
func ParsePOM(ctx context.Context, b []byte) (pkgs []Package, missing []string, err error) {
	var p pomProject
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	// Real poms are UTF-8 or ASCII; anything else is refused, not guessed.
	d.CharsetReader = nil
	if err := d.Decode(&p); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if len(p.Dependencies)+len(p.DependencyManagement.Dependencies) > maxDeps {
		return nil, nil, errors.New("more dependencies than any real pom declares")
	}
	props := map[string]string{}
	for k, v := range p.Properties.Entries {
		props[k] = v
	}
	version := cmpOr(p.Version, p.Parent.Version)
	group := cmpOr(p.GroupID, p.Parent.GroupID)
	for k, v := range map[string]string{
		"project.version": version, "pom.version": version, "version": version,
		"project.groupId": group, "pom.groupId": group,
		"project.artifactId":     p.ArtifactID,
		"project.parent.version": p.Parent.Version, "parent.version": p.Parent.Version,
		"project.parent.groupId": p.Parent.GroupID,
	} {
		if v != "" {
			props[k] = v
		}
	}
	resolve := func(s string) string { return resolveProps(strings.TrimSpace(s), props) }

	managed := map[string]string{}
	for _, dep := range p.DependencyManagement.Dependencies {
		if strings.EqualFold(dep.Scope, "import") {
			continue
		}
		managed[resolve(dep.GroupID)+":"+resolve(dep.ArtifactID)] = resolve(dep.Version)
	}
	deps := p.Dependencies
	for _, pr := range p.Profiles {
		deps = append(deps, pr.Dependencies...)
	}
	seen := map[string]int{}
	for _, dep := range deps {
		scope := strings.ToLower(strings.TrimSpace(dep.Scope))
		if scope == "provided" || scope == "system" || scope == "import" {
			continue
		}
		g, a := resolve(dep.GroupID), resolve(dep.ArtifactID)
		if g == "" || a == "" {
			continue
		}
		v := resolve(dep.Version)
		if v == "" {
			v = managed[g+":"+a]
		}
		if !pinned(v) {
			missing = append(missing, g+":"+a)
			continue
		}
		k := g + ":" + a + "@" + v
		dev := scope == "test"
		if i, ok := seen[k]; ok {
			pkgs[i].Dev = pkgs[i].Dev && dev
			continue
		}
		seen[k] = len(pkgs)
		pkgs = append(pkgs, Package{Group: g, Artifact: a, Version: v, Dev: dev})
	}
	sort.Slice(pkgs, func(i, j int) bool {
		if pkgs[i].Group+":"+pkgs[i].Artifact != pkgs[j].Group+":"+pkgs[j].Artifact {
			return pkgs[i].Group+":"+pkgs[i].Artifact < pkgs[j].Group+":"+pkgs[j].Artifact
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	sort.Strings(missing)
	return pkgs, missing, nil
}

// resolveProps expands ${name} from props, repeatedly (a property may name
// another), at most a few rounds: a property that refers to itself stays
// unresolved rather than looping.
func resolveProps(s string, props map[string]string) string {
	for range 8 {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		v, ok := props[s[i+2:i+j]]
		if !ok {
			return s
		}
		s = s[:i] + v + s[i+j+1:]
		if len(s) > 1024 {
			return s
		}
	}
	return s
}

// pinned: a single version, not a range ("[1.0,2.0)"), not an unresolved
// property.
func pinned(v string) bool {
	return v != "" && !strings.ContainsAny(v, "[](),${}") && !strings.ContainsAny(v, " \t\n")
}

func cmpOr(a, b string) string {
	if a = strings.TrimSpace(a); a != "" {
		return a
	}
	return strings.TrimSpace(b)
}
