// Package image checks a built image: its configuration and history
// (Check), and the file facts the imagefacts analyzer records during the one
// walk over each layer (setuid/setgid and world-writable files, sshd, sudo,
// package-manager caches), which Check groups and completes.
package image

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// DefaultMaxAge is the age past which an image counts as stale
// (--max-image-age).
const DefaultMaxAge = 180 * 24 * time.Hour

// Options configure Check.
type Options struct {
	misconfig.Options
	// MaxAge: zero means DefaultMaxAge, negative disables BH-IMG-010.
	MaxAge time.Duration
	// Now is the current time (tests); zero means time.Now().
	Now time.Time
	// MaxListed bounds the paths named in one grouped finding; zero means 10.
	MaxListed int
}

// Cache kinds recorded by the imagefacts analyzer in Finding.Resource of
// BH-IMG-006 facts, with the directory they name.
var CacheKinds = map[string]struct{ Dir, What string }{
	"cache:apt-lists":    {"/var/lib/apt/lists", "apt package lists"},
	"cache:apt-archives": {"/var/cache/apt/archives", "downloaded .deb packages"},
	"cache:apk":          {"/var/cache/apk", "apk index and package cache"},
	"cache:yum":          {"/var/cache/yum", "yum repository metadata and packages"},
	"cache:dnf":          {"/var/cache/dnf", "dnf repository metadata and packages"},
	"cache:zypper":       {"/var/cache/zypp", "zypper repository metadata and packages"},
	"cache:pip":          {"~/.cache/pip", "pip download cache"},
	"cache:npm":          {"~/.npm/_cacache", "npm cache"},
	"cache:yarn":         {"~/.cache/yarn", "yarn cache"},
}

// history is one history entry and the layer it created, if any.
type history struct {
	index     int
	layer     *int
	diffID    string
	createdBy string
}

func histories(cfg *v1.ConfigFile) []history {
	out := make([]history, 0, len(cfg.History))
	nonEmpty := 0
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
	}
	exact := nonEmpty == len(cfg.RootFS.DiffIDs)
	li := 0
	for i, h := range cfg.History {
		e := history{index: i, createdBy: h.CreatedBy}
		if !h.EmptyLayer {
			if exact {
				e.layer = misconfig.Layer(li)
				e.diffID = cfg.RootFS.DiffIDs[li].String()
			}
			li++
		}
		out = append(out, e)
	}
	return out
}

// instruction returns the Dockerfile instruction of a created_by:
// "USER app" for both "USER app" (BuildKit) and
// "/bin/sh -c #(nop)  USER app" (the classic builder).
func instruction(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if i := strings.Index(s, "#(nop)"); i >= 0 {
		s = strings.TrimSpace(s[i+len("#(nop)"):])
	}
	return strings.TrimSuffix(s, " # buildkit")
}

// last returns the last history entry whose instruction starts with verb
// and satisfies pred (nil pred: any).
func last(hs []history, verb string, pred func(string) bool) *history {
	for i := len(hs) - 1; i >= 0; i-- {
		in := instruction(hs[i].createdBy)
		if len(in) > len(verb) && strings.EqualFold(in[:len(verb)], verb) && in[len(verb)] == ' ' && (pred == nil || pred(in)) {
			return &hs[i]
		}
	}
	return nil
}

func place(f *misconfig.Finding, h *history) {
	if h == nil {
		return
	}
	f.LayerIndex = h.layer
	f.LayerDiffID = h.diffID
	f.CreatedBy = h.createdBy
	f.Path = cmp.Or(f.Path, "history["+strconv.Itoa(h.index)+"]")
}

// Check returns the findings for an image: those about its configuration and
// history, plus the file facts of the imagefacts analyzer (after the layers
// were merged, so only files still present count) grouped and completed with
// the catalogue's why, fix and references. Skipped checks are dropped; the
// result is sorted.
func Check(cfg *v1.ConfigFile, files []misconfig.Finding, opts Options) []misconfig.Finding {
	var out []misconfig.Finding
	if cfg != nil {
		out = configChecks(cfg, opts)
	}
	out = append(out, groupFiles(files, opts)...)
	return misconfig.Filter(out, nil, opts.Options)
}

func configChecks(cfg *v1.ConfigFile, opts Options) []misconfig.Finding {
	var out []misconfig.Finding
	hs := histories(cfg)
	c := cfg.Config
	windows := strings.EqualFold(cfg.OS, "windows")

	// Root user.
	if name, _, _ := strings.Cut(c.User, ":"); !windows && (name == "" || name == "root" || name == "0") {
		f := misconfig.New(misconfig.IMGRootUser)
		f.Path = "config.User"
		if c.User == "" {
			f.Message = "the image configuration sets no User, so containers run as root"
		} else {
			f.Message = fmt.Sprintf("the image configuration sets User %q", c.User)
			place(&f, last(hs, "USER", nil))
			f.Path = "config.User"
		}
		out = append(out, f)
	}

	// Healthcheck.
	if c.Healthcheck == nil || len(c.Healthcheck.Test) == 0 {
		f := misconfig.New(misconfig.IMGNoHealthcheck)
		f.Path = "config.Healthcheck"
		f.Message = "the image configuration has no HEALTHCHECK"
		out = append(out, f)
	}

	// Secret-looking Env.
	for _, e := range c.Env {
		k, v, _ := strings.Cut(e, "=")
		if !misconfig.SecretName(k) || !misconfig.SecretValue(v) {
			continue
		}
		f := misconfig.New(misconfig.IMGSecretEnv)
		f.Path = "config.Env:" + k
		f.Message = fmt.Sprintf("environment variable %s has a value baked into the image", k)
		h := last(hs, "ENV", func(in string) bool {
			return strings.Contains(in, " "+k+"=") || strings.Contains(in, " "+k+" ")
		})
		place(&f, h)
		f.Path = "config.Env:" + k
		f.CreatedBy = redact(f.CreatedBy, v)
		out = append(out, f)
	}

	// ADD of remote URLs.
	for i := range hs {
		in := instruction(hs[i].createdBy)
		if m := addURL.FindStringSubmatch(in); m != nil && !strings.Contains(in, "--checksum") {
			f := misconfig.New(misconfig.IMGAddURL)
			f.Message = fmt.Sprintf("layer added with ADD %s", m[1])
			place(&f, &hs[i])
			out = append(out, f)
		}
	}

	// Age.
	maxAge := cmp.Or(opts.MaxAge, DefaultMaxAge)
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if created := cfg.Created.Time; maxAge > 0 && created.Year() >= 1980 {
		if age := now.Sub(created); age > maxAge {
			f := misconfig.New(misconfig.IMGOld)
			f.Path = "config.Created"
			f.Message = fmt.Sprintf("the image was built %d days ago (%s); the limit is %d days",
				int(age.Hours()/24), created.UTC().Format("2006-01-02"), int(maxAge.Hours()/24))
			out = append(out, f)
		}
	}

	// Exposed ports.
	ports := make([]string, 0, len(c.ExposedPorts))
	for p := range c.ExposedPorts {
		ports = append(ports, p)
	}
	slices.Sort(ports)
	for _, p := range ports {
		num, _, _ := strings.Cut(p, "/")
		n, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		var f misconfig.Finding
		switch what, mgmt := misconfig.ManagementPorts[n]; {
		case mgmt:
			f = misconfig.New(misconfig.IMGManagementPort)
			f.Message = fmt.Sprintf("port %s (%s) is exposed", p, what)
		case n < 1024 && n > 0:
			f = misconfig.New(misconfig.IMGPrivilegedPort)
			f.Message = fmt.Sprintf("privileged port %s is exposed", p)
		default:
			continue
		}
		place(&f, last(hs, "EXPOSE", func(in string) bool { return strings.Contains(in, num) }))
		f.Path = "config.ExposedPorts:" + p
		out = append(out, f)
	}
	return out
}

var addURL = regexp.MustCompile(`(?i)^ADD\s+(?:--\S+\s+)*((?:https?|git|ssh)://\S+|git@\S+)`)

// redact masks a secret value wherever it appears in s.
func redact(s, secret string) string {
	if s == "" || len(secret) < 1 {
		return s
	}
	mask := "****"
	if len(secret) > 4 {
		mask = secret[:min(2, len(secret)/4)] + "****"
	}
	return strings.ReplaceAll(s, secret, mask)
}

// groupFiles completes the imagefacts facts: one finding per setuid/setgid
// file, sshd and sudo binary; world-writable files and cache files grouped
// per layer (and cache kind), naming the first few paths.
func groupFiles(files []misconfig.Finding, opts Options) []misconfig.Finding {
	maxListed := cmp.Or(opts.MaxListed, 10)
	var out []misconfig.Finding
	type key struct {
		id, res string
		layer   int
	}
	groups := map[key][]misconfig.Finding{}
	var order []key
	for _, f := range files {
		switch f.ID {
		case misconfig.IMGWorldWritable, misconfig.IMGPkgCache:
			k := key{f.ID, f.Resource, -1}
			if f.LayerIndex != nil {
				k.layer = *f.LayerIndex
			}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], f)
		default:
			if _, ok := misconfig.Lookup(f.ID); ok {
				out = append(out, complete(f))
			}
		}
	}
	for _, k := range order {
		fs := groups[k]
		slices.SortFunc(fs, func(a, b misconfig.Finding) int { return cmp.Compare(a.Path, b.Path) })
		g := complete(fs[0])
		paths := make([]string, 0, min(len(fs), maxListed))
		for _, f := range fs[:min(len(fs), maxListed)] {
			paths = append(paths, f.Path)
		}
		more := ""
		if len(fs) > maxListed {
			more = fmt.Sprintf(" and %d more", len(fs)-maxListed)
		}
		switch k.id {
		case misconfig.IMGWorldWritable:
			g.Message = fmt.Sprintf("%d world-writable file(s): %s%s", len(fs), strings.Join(paths, ", "), more)
		case misconfig.IMGPkgCache:
			kind := CacheKinds[k.res]
			g.Path = cmp.Or(kind.Dir, fs[0].Path)
			g.Message = fmt.Sprintf("%s left in the image (%d file(s): %s%s)", cmp.Or(kind.What, k.res), len(fs), strings.Join(paths, ", "), more)
		}
		out = append(out, g)
	}
	return out
}

// complete fills a fact's catalogue metadata, keeping its location and
// message.
func complete(f misconfig.Finding) misconfig.Finding {
	c := misconfig.New(f.ID)
	c.Path, c.Line, c.Resource, c.Template = f.Path, f.Line, f.Resource, f.Template
	c.LayerIndex, c.LayerDiffID, c.CreatedBy = f.LayerIndex, f.LayerDiffID, f.CreatedBy
	c.Message = cmp.Or(f.Message, c.Message)
	return c
}
