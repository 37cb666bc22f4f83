package javalock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ParseGradleLockfile reads a Gradle dependency lockfile: one
// "group:artifact:version=configuration,configuration" line per resolved
// module, comments starting with #, and an "empty=..." line listing the
// configurations that resolved nothing. A module needed only by test
// configurations (testCompileClasspath, testRuntimeClasspath, and the
// like) is Dev. The older per-configuration files under
// gradle/dependency-locks/ have no "=..." part.
func ParseGradleLockfile(ctx context.Context, b []byte) ([]Package, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pkgs []Package
	seen := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "empty=") {
			continue
		}
		coords, confs, hasConfs := strings.Cut(line, "=")
		parts := strings.Split(coords, ":")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !pinned(parts[2]) {
			return nil, fmt.Errorf("line %d: %q is not group:artifact:version", n, truncate(line))
		}
		dev := hasConfs && testOnly(confs)
		k := coords
		if i, ok := seen[k]; ok {
			pkgs[i].Dev = pkgs[i].Dev && dev
			continue
		}
		if len(pkgs) >= maxDeps {
			return nil, errors.New("more modules than any real lockfile lists")
		}
		seen[k] = len(pkgs)
		pkgs = append(pkgs, Package{Group: parts[0], Artifact: parts[1], Version: parts[2], Dev: dev})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := pkgs[i].Group+":"+pkgs[i].Artifact, pkgs[j].Group+":"+pkgs[j].Artifact
		if a != b {
			return a < b
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	return pkgs, nil
}

// testOnly reports whether every configuration in the comma-separated list
// is a test one.
func testOnly(confs string) bool {
	some := false
	for _, c := range strings.Split(confs, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		some = true
		if !strings.HasPrefix(c, "test") && !strings.Contains(c, "Test") {
			return false
		}
	}
	return some
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
