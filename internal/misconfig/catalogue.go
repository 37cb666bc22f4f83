package misconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
)

// Check is one entry of the catalogue.
type Check struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Why explains, for the developer who has to act, what goes wrong if
	// this is left as it is.
	Why string `json:"why"`
	// Fix is the general fix; findings may carry a more specific one.
	Fix        string   `json:"fix"`
	References []string `json:"references"`
}

// catalogue is every check, in ID order within each family.
var catalogue = slices.Concat(dockerfileChecks, kubernetesChecks, composeChecks, imageChecks)

var byID = sync.OnceValue(func() map[string]Check {
	m := make(map[string]Check, len(catalogue))
	for _, c := range catalogue {
		m[c.ID] = c
	}
	return m
})

// Catalogue returns every check (for `bulkhead checks list`): Dockerfile,
// Kubernetes, Compose, then image checks, each family in ID order. The slice
// is a copy.
func Catalogue() []Check {
	out := make([]Check, len(catalogue))
	for i, c := range catalogue {
		c.References = slices.Clone(c.References)
		out[i] = c
	}
	return out
}

// Lookup returns the check with id.
func Lookup(id string) (Check, bool) {
	c, ok := byID()[id]
	return c, ok
}

// WriteCatalogue writes checks as "table" (ID, severity, type, title) or
// "json" (every field).
func WriteCatalogue(w io.Writer, format string, checks []Check) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if checks == nil {
			checks = []Check{}
		}
		return enc.Encode(checks)
	case "table", "":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tTYPE\tTITLE")
		for _, c := range checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Type, c.Title)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown format %q for the check list (want table or json)", format)
}

// Reference texts, shared by the check tables.
const (
	cisDocker = "CIS Docker Benchmark v1.6.0 "
	pss       = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
	pssBase   = "Pod Security Standards (Baseline): "
	pssRestr  = "Pod Security Standards (Restricted): "
	dfRef     = "https://docs.docker.com/reference/dockerfile/"
	bestPract = "https://docs.docker.com/build/building/best-practices/"
	composeRf = "https://docs.docker.com/reference/compose-file/services/"
	secCtx    = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
)

func refs(rs ...string) []string { return rs }

// counts returns the number of checks per type, for tests and docs.
func counts() map[string]int {
	m := map[string]int{}
	for _, c := range catalogue {
		m[c.Type]++
	}
	return m
}

// idFamily returns "BH-DF" for "BH-DF-001".
func idFamily(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return id
	}
	return id[:i]
}
