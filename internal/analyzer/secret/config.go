package secret

import (
	"context"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// ScanImageConfig looks for secrets in an image's configuration and
// history: build arguments and environment baked in with ARG/ENV, labels,
// the command line, and RUN steps such as `curl -u user:pass`. Findings are
// named by where they are:
//
//	config.Env:NAME         an Env entry ("NAME=value" is scanned)
//	config.Labels:KEY       a label ("KEY=value")
//	config.Cmd, config.Entrypoint, config.Healthcheck, config.OnBuild[i]
//	history[i]              the created_by of history entry i
//
// A history finding carries the index of the layer the step created (or
// inventory.NoLayer for an empty-layer step such as ENV) and the step's
// created_by with every secret masked; config findings have NoLayer.
func (a *Analyzer) ScanImageConfig(ctx context.Context, cf *v1.ConfigFile) []inventory.Secret {
	if cf == nil {
		return nil
	}
	var out []inventory.Secret
	add := func(path, text string, layer int, createdBy string) {
		if text == "" {
			return
		}
		for _, s := range a.s.ScanText(ctx, path, text) {
			s.LayerIndex = layer
			s.CreatedBy = createdBy
			out = append(out, s)
		}
	}
	c := cf.Config
	for _, e := range c.Env {
		name, _, _ := strings.Cut(e, "=")
		add("config.Env:"+name, e, inventory.NoLayer, "")
	}
	keys := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add("config.Labels:"+k, k+"="+c.Labels[k], inventory.NoLayer, "")
	}
	add("config.Entrypoint", strings.Join(c.Entrypoint, " "), inventory.NoLayer, "")
	add("config.Cmd", strings.Join(c.Cmd, " "), inventory.NoLayer, "")
	if c.Healthcheck != nil {
		add("config.Healthcheck", strings.Join(c.Healthcheck.Test, " "), inventory.NoLayer, "")
	}
	for i, ob := range c.OnBuild {
		add("config.OnBuild["+strconv.Itoa(i)+"]", ob, inventory.NoLayer, "")
	}
	layer := 0
	for i, h := range cf.History {
		idx := inventory.NoLayer
		if !h.EmptyLayer {
			idx = layer
			layer++
		}
		if h.CreatedBy == "" {
			continue
		}
		p := "history[" + strconv.Itoa(i) + "]"
		add(p, h.CreatedBy, idx, a.s.Redact(ctx, p, h.CreatedBy))
	}
	return out
}

// RedactHistory returns created_by with every secret masked, for showing
// layer history in a report: the raw string can hold build secrets.
func (a *Analyzer) RedactHistory(ctx context.Context, i int, createdBy string) string {
	return a.s.Redact(ctx, "history["+strconv.Itoa(i)+"]", createdBy)
}
