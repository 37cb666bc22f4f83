package dockerfile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func (f *file) check() {
	for _, in := range f.globals {
		if in.cmd == "arg" {
			f.secretArgs(in, "global ARG")
		}
	}
	for _, s := range f.stages {
		f.checkFrom(s)
		f.checkStage(s)
	}
	if len(f.stages) > 0 {
		f.checkFinal(f.stages[len(f.stages)-1])
	}
}

// chain returns the shipped stages from the base-most to the final one.
func (f *file) chain(final *stage) []*stage {
	var rev []*stage
	for s := final; s != nil; s = s.baseStage {
		rev = append(rev, s)
		if len(rev) > len(f.stages) {
			break // a cycle cannot happen (a stage can only name earlier ones), but stay safe
		}
	}
	out := make([]*stage, len(rev))
	for i, s := range rev {
		out[len(rev)-1-i] = s
	}
	return out
}

func (f *file) checkFrom(s *stage) {
	if s.baseStage != nil || s.rawImage == "" {
		return
	}
	img := s.image
	if img == "" || strings.Contains(img, "$") || strings.EqualFold(img, "scratch") {
		return
	}
	ref := misconfig.ParseImageRef(img)
	as := ""
	if s.name != "" {
		as = " AS " + s.name
	}
	line := s.from.start
	switch {
	case ref.Unpinned():
		msg := fmt.Sprintf("FROM %s has no tag, so it means %s:latest", img, img)
		if ref.Tag == "latest" {
			msg = fmt.Sprintf("FROM %s uses the floating latest tag", img)
		}
		fd := f.add(misconfig.DFLatestTag, line, s.label(), msg)
		fd.Fix = fmt.Sprintf("FROM %s:<version>%s", ref.Name, as)
	case ref.Digest == "":
		fd := f.add(misconfig.DFNoDigest, line, s.label(), fmt.Sprintf("FROM %s is not pinned by digest", img))
		fd.Fix = fmt.Sprintf("FROM %s@sha256:<digest>%s", img, as)
	}
}

// checkStage runs the per-instruction checks of one stage.
func (f *file) checkStage(s *stage) {
	res := s.label()
	aptNoRecommendsConfigured := false
	var cmds, entrypoints []*inst
	for _, in := range s.insts {
		switch in.cmd {
		case "env":
			f.secretEnv(in, res)
		case "arg":
			f.secretArgs(in, res)
		case "add":
			f.checkAdd(in, res)
		case "run":
			if strings.Contains(in.node.Original, "Install-Recommends") || heredocContains(in, "Install-Recommends") {
				aptNoRecommendsConfigured = true
			}
			f.checkRun(s, in, res, aptNoRecommendsConfigured)
		case "cmd":
			cmds = append(cmds, in)
		case "entrypoint":
			entrypoints = append(entrypoints, in)
		case "expose":
			if s.shipped {
				f.checkExpose(in, res)
			}
		case "volume":
			if s.shipped {
				f.checkVolume(in, res)
			}
		}
	}
	for _, group := range [][]*inst{cmds, entrypoints} {
		for i := 0; i+1 < len(group); i++ {
			last := group[len(group)-1]
			name := strings.ToUpper(last.cmd)
			fd := f.add(misconfig.DFMultipleCmd, group[i].start, res,
				fmt.Sprintf("this %s is overridden by the %s at line %d and never runs", name, name, last.start))
			fd.Fix = fmt.Sprintf("Delete this %s; keep only the one at line %d.", name, last.start)
		}
	}
}

func heredocContains(in *inst, s string) bool {
	for _, h := range in.heredocs {
		if strings.Contains(h.Content, s) {
			return true
		}
	}
	return false
}

// checkFinal runs the checks about what the image ships.
func (f *file) checkFinal(final *stage) {
	chain := f.chain(final)
	res := final.label()
	windows := false
	if b := chain[0]; b.baseStage == nil {
		l := strings.ToLower(b.image)
		windows = strings.Contains(l, "windows") || strings.Contains(l, "nanoserver") || strings.Contains(l, "servercore")
	}
	var user, health, cmd, entry *inst
	posix := final.posix
	for _, s := range chain {
		for _, in := range s.insts {
			switch in.cmd {
			case "user":
				user = in
			case "healthcheck":
				health = in
			case "cmd":
				cmd = in
			case "entrypoint":
				entry = in
			}
		}
	}

	// USER.
	if !windows {
		switch {
		case user == nil:
			base := strings.ToLower(chain[0].image)
			if !strings.Contains(base, "nonroot") && !strings.Contains(base, "rootless") {
				fd := f.add(misconfig.DFRootUser, final.from.start, res,
					fmt.Sprintf("%s (the final stage) never sets USER, so the container runs as root unless its base image sets a user", res))
				fd.Fix = "Add at the end of the final stage:\nRUN useradd --system --uid 10001 --no-create-home app\nUSER 10001"
			}
		case len(user.args) > 0 && isRootUser(user.args[0]):
			fd := f.add(misconfig.DFRootUser, user.start, res, fmt.Sprintf("the last USER of the final stage is %s", user.args[0]))
			fd.Fix = "USER 10001   # a non-root UID that owns only what the app must write"
		}
	}

	// HEALTHCHECK.
	if health == nil {
		f.add(misconfig.DFNoHealthcheck, final.from.start, res, res+" (the final stage) has no HEALTHCHECK")
	}

	// Shell-form CMD / ENTRYPOINT.
	if posix && !windows {
		for _, in := range []*inst{entry, cmd} {
			if in == nil || in.json || len(in.args) == 0 {
				continue
			}
			script := strings.TrimSpace(in.args[0])
			if script == "" || strings.HasPrefix(script, "exec ") {
				continue
			}
			name := strings.ToUpper(in.cmd)
			words := strings.Fields(script)
			fd := f.add(misconfig.DFShellFormCmd, in.start, res,
				fmt.Sprintf("%s %s runs under /bin/sh -c, which does not pass SIGTERM to the application", name, script))
			if !strings.ContainsAny(script, "&|;$<>`*'\"") {
				fd.Fix = fmt.Sprintf("%s %s", name, jsonArray(words))
			} else {
				fd.Fix = fmt.Sprintf("%s exec %s   (or move the logic into a script and use %s [\"/app/start.sh\"])", name, script, name)
			}
		}
	}

	// Privileged runtime hints in the effective CMD / ENTRYPOINT.
	for _, in := range []*inst{entry, cmd} {
		if in == nil || len(in.args) == 0 {
			continue
		}
		var words []string
		if in.json {
			words = in.args
			if len(words) >= 3 && posixShell(words[0]) && words[1] == "-c" {
				words = words[:2]
				for _, c := range splitShell(in.args[2]) {
					words = append(words, c.words...)
				}
			}
		} else {
			for _, c := range splitShell(in.args[0]) {
				words = append(words, c.words...)
			}
		}
		if why := privilegedHint(words); why != "" {
			f.add(misconfig.DFPrivilegedRuntime, in.start, res, fmt.Sprintf("%s %s", strings.ToUpper(in.cmd), why))
		}
	}
}

func jsonArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name == "0"
}

// privilegedHint returns why a command line needs a privileged container,
// or "".
func privilegedHint(words []string) string {
	for i, w := range words {
		switch base(w) {
		case "dockerd", "containerd", "modprobe", "insmod", "rmmod", "iptables", "ip6tables", "nft", "swapon",
			"losetup", "nsenter", "mount", "sysctl", "setenforce":
			if base(w) == "sysctl" && !containsAny(words[i+1:], "-w") && !hasAssignmentArg(words[i+1:]) {
				continue
			}
			return "runs " + base(w) + ", which only works in a privileged container"
		case "ip":
			if i+1 < len(words) && (words[i+1] == "link" || words[i+1] == "route" || words[i+1] == "addr") {
				return "runs ip " + words[i+1] + ", which needs NET_ADMIN or a privileged container"
			}
		}
	}
	return ""
}

func containsAny(ws []string, xs ...string) bool {
	for _, w := range ws {
		for _, x := range xs {
			if w == x {
				return true
			}
		}
	}
	return false
}

func hasAssignmentArg(ws []string) bool {
	for _, w := range ws {
		if strings.Contains(w, "=") && !strings.HasPrefix(w, "-") {
			return true
		}
	}
	return false
}

func (f *file) checkVolume(in *inst, res string) {
	vols := in.args
	for _, v := range vols {
		v = strings.Trim(v, `"' `)
		if misconfig.RuntimeSocket(v) && v != "/run" && v != "/var/run" || v == "/var/lib/docker" {
			f.add(misconfig.DFPrivilegedRuntime, in.start, res,
				fmt.Sprintf("VOLUME %s expects the host's container runtime (socket or data) to be mounted", v))
		}
	}
}

func (f *file) checkExpose(in *inst, res string) {
	for _, a := range in.args {
		p, _, _ := strings.Cut(a, "/")
		lo, hi := p, p
		if x, y, ok := strings.Cut(p, "-"); ok {
			lo, hi = x, y
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			continue
		}
		for port, what := range misconfig.ManagementPorts {
			if port >= l && port <= h {
				fd := f.add(misconfig.DFExposeSSH, in.start, res, fmt.Sprintf("EXPOSE %s publishes port %d (%s)", a, port, what))
				fd.Fix = fmt.Sprintf("Remove %s from EXPOSE and the %s service from the image.", a, what)
			}
		}
	}
}

// secretEnv checks ENV key=value pairs (parser nodes: key, value, sep).
func (f *file) secretEnv(in *inst, res string) {
	from := in.start
	for i := 0; i+1 < len(in.args); i += 3 {
		k, v := in.args[i], in.args[i+1]
		if misconfig.SecretName(k) && misconfig.SecretValue(unquote(v)) {
			line := f.locateFrom(in, from, k)
			from = line
			msg := fmt.Sprintf("ENV %s stores a value in the image configuration", k)
			if strings.HasPrefix(strings.TrimSpace(unquote(v)), "$") {
				msg = fmt.Sprintf("ENV %s copies a build argument into the image configuration", k)
			}
			fd := f.add(misconfig.DFSecretEnv, line, res, msg)
			fd.Fix = fmt.Sprintf("Remove ENV %s; read it at run time from a secret (file or orchestrator secret), or at build time with RUN --mount=type=secret,id=%s,env=%s …", k, strings.ToLower(k), k)
		}
	}
}

func (f *file) secretArgs(in *inst, res string) {
	from := in.start
	for _, a := range in.args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !misconfig.SecretName(k) || !misconfig.SecretValue(unquote(v)) {
			continue
		}
		from = f.locateFrom(in, from, k)
		fd := f.add(misconfig.DFSecretEnv, from, res, fmt.Sprintf("ARG %s has a default value, recorded in the Dockerfile and the build history", k))
		fd.Fix = fmt.Sprintf("Declare ARG %s without a value — better, pass it as a build secret: RUN --mount=type=secret,id=%s,env=%s …", k, strings.ToLower(k), k)
	}
}

var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.lz4"}

func isArchive(p string) bool {
	l := strings.ToLower(p)
	for _, e := range archiveExt {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

func isRemote(src string) bool {
	l := strings.ToLower(src)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "git@") ||
		strings.HasPrefix(l, "git://") || strings.HasPrefix(l, "ssh://")
}

func (f *file) checkAdd(in *inst, res string) {
	if len(in.args) < 2 {
		return
	}
	srcs, dest := in.args[:len(in.args)-1], in.args[len(in.args)-1]
	_, hasChecksum := in.flag("checksum")
	var local []string
	for _, s := range srcs {
		switch {
		case strings.HasPrefix(s, "<<"):
			// heredoc: ADD <<EOF /file writes inline content, like COPY.
			local = append(local, s)
		case isRemote(s):
			if !hasChecksum {
				fd := f.add(misconfig.DFAddURL, f.locate(in, s), res, fmt.Sprintf("ADD downloads %s without --checksum", s))
				fd.Fix = fmt.Sprintf("ADD --checksum=sha256:<sha256 of the file> %s %s", s, dest)
			}
		case isArchive(s):
			if isArchive(dest) || base(strings.TrimRight(dest, "/")) == base(s) {
				fd := f.add(misconfig.DFAddLocal, f.locate(in, s), res,
					fmt.Sprintf("ADD extracts the archive %s into a directory at %s; the destination names a file, so COPY was probably meant", s, dest))
				fd.Fix = fmt.Sprintf("COPY %s %s", s, dest)
			}
		default:
			local = append(local, s)
		}
	}
	if len(local) > 0 {
		fd := f.add(misconfig.DFAddLocal, in.start, res, fmt.Sprintf("ADD %s copies local files; COPY does that without ADD's extraction and download behaviour", strings.Join(local, " ")))
		fd.Fix = strings.Replace(strings.TrimSpace(in.node.Original), in.node.Value, "COPY", 1)
	}
}

// cacheMounts returns the targets of RUN --mount=type=cache.
func cacheMounts(in *inst) []string {
	var out []string
	for _, fl := range in.flags {
		v, ok := strings.CutPrefix(fl, "--mount=")
		if !ok {
			continue
		}
		var typ, target string
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			switch strings.ToLower(k) {
			case "type":
				typ = val
			case "target", "dst", "destination":
				target = val
			}
		}
		if typ == "cache" && target != "" {
			out = append(out, strings.TrimRight(target, "/"))
		}
	}
	return out
}

// covered reports whether a cache mount holds p.
func covered(mounts []string, p string) bool {
	for _, m := range mounts {
		if p == m || strings.HasPrefix(p, m+"/") {
			return true
		}
	}
	return false
}

// script returns the shell script a RUN executes and whether it is POSIX
// shell at all.
func runScript(in *inst) (string, bool) {
	if in.json {
		// RUN ["sh", "-c", "script"] is shell; other exec forms are not.
		if len(in.args) >= 3 && posixShell(in.args[0]) && in.args[1] == "-c" {
			return in.args[2], true
		}
		return strings.Join(in.args, " "), true
	}
	if len(in.args) == 0 {
		return "", false
	}
	line := in.args[0]
	if len(in.heredocs) == 0 {
		return line, true
	}
	// RUN <<EOF runs the heredoc as the script; RUN bash <<EOF feeds it to
	// a shell; RUN python3 <<EOF or cat <<EOF > f treat it as data.
	rest := strings.TrimSpace(stripHeredocMarkers(line))
	var b strings.Builder
	b.WriteString(line)
	for _, h := range in.heredocs {
		c := h.Content
		first, _, _ := strings.Cut(c, "\n")
		if rest == "" || isShellCommand(rest) {
			if strings.HasPrefix(first, "#!") && !shebangIsShell(first) {
				continue // #!/usr/bin/env python3: not a shell script
			}
			b.WriteString("\n")
			b.WriteString(c)
		}
	}
	return b.String(), true
}

// shebangIsShell reports whether "#!/bin/sh -e" or "#!/usr/bin/env bash"
// names a POSIX shell.
func shebangIsShell(line string) bool {
	f := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(f) == 0 {
		return true
	}
	if base(f[0]) == "env" {
		f = f[1:]
		for len(f) > 0 && strings.HasPrefix(f[0], "-") {
			f = f[1:]
		}
		if len(f) == 0 {
			return false
		}
	}
	return posixShell(f[0])
}

func stripHeredocMarkers(line string) string {
	var out []string
	for _, w := range strings.Fields(line) {
		if strings.Contains(w, "<<") {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func isShellCommand(cmd string) bool {
	w := strings.Fields(cmd)
	return len(w) > 0 && posixShell(w[0])
}

var pkgUpdate = map[string]map[string]bool{
	"apt-get": {"update": true}, "apt": {"update": true}, "apk": {"update": true},
	"yum": {"makecache": true, "check-update": true}, "dnf": {"makecache": true, "check-update": true},
	"microdnf": {"makecache": true}, "zypper": {"refresh": true, "ref": true},
}

// trivialCmds may accompany an index update without making the RUN useful.
var trivialCmds = map[string]bool{"set": true, "echo": true, "true": true, ":": true, "printf": true}

// subcommand returns the first non-option argument.
func subcommand(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func hasArg(args []string, pred func(string) bool) bool {
	for _, a := range args {
		if pred(a) {
			return true
		}
	}
	return false
}

func (f *file) checkRun(s *stage, in *inst, res string, aptConfigured bool) {
	if v, ok := in.flag("security"); ok && v == "insecure" {
		fd := f.add(misconfig.DFInsecureBuild, in.start, res, "RUN --security=insecure runs this step as a privileged container")
		fd.Fix = strings.Replace(strings.TrimSpace(firstLine(in.node.Original)), "--security=insecure ", "", 1)
	}
	if !s.posix {
		return
	}
	script, ok := runScript(in)
	if !ok {
		return
	}
	cmds := splitShell(script)
	if len(cmds) == 0 {
		return
	}
	mounts := cacheMounts(in)
	// One finding per check per RUN: a RUN of thousands of commands must
	// not yield (or locate) thousands of findings.
	once := map[string]bool{}
	add := func(id string, line func() int, msg string) *misconfig.Finding {
		if once[id] {
			return nil
		}
		once[id] = true
		return f.add(id, line(), res, msg)
	}

	type named struct {
		name string
		args []string
		sudo bool
		cmd  simpleCmd
	}
	ns := make([]named, len(cmds))
	for i, c := range cmds {
		n, a, su := c.name()
		ns[i] = named{n, a, su, c}
	}

	// RUN cd … as the first command.
	if ns[0].name == "cd" && len(ns) > 1 {
		dir := subcommand(ns[0].args)
		fd := f.add(misconfig.DFRunCd, f.locate(in, "cd "), res, fmt.Sprintf("RUN starts with cd %s", dir))
		if dir != "" && strings.HasPrefix(dir, "/") {
			fd.Fix = fmt.Sprintf("WORKDIR %s, then the rest of the RUN without the cd", dir)
		}
	}

	var (
		updateOnly, sawUpdate    = true, false
		aptUpdateLine, aptUpdate = 0, false
		rmLists, rmApk           bool
		rmRPM                    = map[string]bool{}
		downloading              bool   // a download feeds the current pipeline
		updater                  string // the package manager updated
	)
	for _, c := range ns {
		if c.sudo {
			add(misconfig.DFSudo, func() int { return f.locate(in, "sudo") }, "RUN uses sudo: "+strings.Join(c.cmd.words, " "))
		}
		if pkgUpdate[c.name][subcommand(c.args)] {
			if !sawUpdate {
				updater = c.name
			}
			sawUpdate = true
			if c.name == "apt-get" || c.name == "apt" {
				aptUpdate = true
				if aptUpdateLine == 0 {
					aptUpdateLine = f.locate(in, c.name+" update", c.name+" -")
				}
			}
		} else if !trivialCmds[c.name] && c.name != "rm" {
			updateOnly = false
		}

		switch c.name {
		case "rm":
			for _, a := range c.args {
				switch {
				case strings.HasPrefix(a, "/var/lib/apt/lists"):
					rmLists = true
				case strings.HasPrefix(a, "/var/cache/apk") || strings.HasPrefix(a, "/etc/apk/cache"):
					rmApk = true
				case strings.HasPrefix(a, "/var/cache/yum"):
					rmRPM["yum"] = true
				case strings.HasPrefix(a, "/var/cache/dnf") || strings.HasPrefix(a, "/var/cache/libdnf5"):
					rmRPM["dnf"], rmRPM["microdnf"], rmRPM["tdnf"] = true, true, true
				case strings.HasPrefix(a, "/var/cache/zypp"):
					rmRPM["zypper"] = true
				case strings.HasPrefix(a, "/var/cache/tdnf"):
					rmRPM["tdnf"] = true
				}
			}
		case "yum", "dnf", "microdnf", "tdnf", "zypper":
			sub := subcommand(c.args)
			if sub == "clean" || sub == "cc" {
				rmRPM[c.name] = true
				if c.name == "dnf" || c.name == "yum" {
					rmRPM["dnf"], rmRPM["yum"] = true, true
				}
			}
		case "chmod":
			if !once[misconfig.DFChmodWorld] && f.checkChmod(in, res, c.args) {
				once[misconfig.DFChmodWorld] = true
			}
		}

		// curl | sh and friends.
		if !c.cmd.piped {
			downloading = false
		}
		if why := pipeToShell(downloading, c.name, c.args); why != "" {
			add(misconfig.DFPipeToShell, func() int { return f.locate(in, "curl", "wget") }, why)
		}
		downloading = downloading || downloads(c.cmd.words)
	}
	if updateOnly && sawUpdate {
		fd := f.add(misconfig.DFAptUpdateAlone, in.start, res, "this RUN only updates the package index; the cached layer will go stale")
		fd.Fix = "Merge it into the RUN that installs: " + map[string]string{
			"apk":      "RUN apk add --no-cache <pkgs> (apk add --no-cache fetches a fresh index itself)",
			"yum":      "RUN yum install -y <pkgs> && yum clean all",
			"dnf":      "RUN dnf install -y <pkgs> && dnf clean all",
			"microdnf": "RUN microdnf install -y <pkgs> && microdnf clean all",
			"zypper":   "RUN zypper refresh && zypper install -y <pkgs> && zypper clean --all",
		}[updater]
		if updater == "apt-get" || updater == "apt" {
			fd.Fix += "RUN apt-get update && apt-get install -y --no-install-recommends <pkgs> && rm -rf /var/lib/apt/lists/*"
		}
	}
	if !s.shipped {
		return
	}
	for _, c := range ns {
		sub := subcommand(c.args)
		switch c.name {
		case "apt-get", "apt":
			if sub != "install" || aptConfigured {
				continue
			}
			if !hasArg(c.args, func(a string) bool {
				return a == "--no-install-recommends" || strings.Contains(a, "Install-Recommends=false") || strings.Contains(a, "Install-Recommends=0")
			}) {
				fd := add(misconfig.DFAptRecommends, func() int { return f.locate(in, c.name+" install", c.name+" -") },
					fmt.Sprintf("%s install without --no-install-recommends", c.name))
				if fd == nil {
					continue
				}
				fd.Fix = fmt.Sprintf("%s install -y --no-install-recommends %s", c.name, strings.Join(packages(c.args), " "))
			}
		case "apk":
			if sub != "add" || rmApk || covered(mounts, "/var/cache/apk") || covered(mounts, "/etc/apk/cache") {
				continue
			}
			if !hasArg(c.args, func(a string) bool { return a == "--no-cache" }) {
				fd := add(misconfig.DFApkCache, func() int { return f.locate(in, "apk ") }, "apk add without --no-cache")
				if fd == nil {
					continue
				}
				fd.Fix = "apk add --no-cache " + strings.Join(packages(c.args), " ")
			}
		case "yum", "dnf", "microdnf", "tdnf", "zypper":
			switch sub {
			case "install", "in", "update", "upgrade", "groupinstall", "reinstall", "up", "dist-upgrade", "dup":
			default:
				continue
			}
			cacheDir := map[string]string{"yum": "/var/cache/yum", "dnf": "/var/cache/dnf", "microdnf": "/var/cache/dnf", "tdnf": "/var/cache/tdnf", "zypper": "/var/cache/zypp"}[c.name]
			if rmRPM[c.name] || covered(mounts, cacheDir) || covered(mounts, "/var/cache/libdnf5") && c.name == "dnf" {
				continue
			}
			fd := add(misconfig.DFYumCache, func() int { return f.locate(in, c.name+" ") }, fmt.Sprintf("%s %s without cleaning its cache in the same RUN", c.name, sub))
			if fd == nil {
				continue
			}
			clean := c.name + " clean all"
			if c.name == "zypper" {
				clean = "zypper clean --all"
			}
			fd.Fix = fmt.Sprintf("… && %s && rm -rf %s", clean, cacheDir)
		}
	}
	if aptUpdate && !updateOnly && !rmLists && !covered(mounts, "/var/lib/apt/lists") {
		f.add(misconfig.DFAptLists, aptUpdateLine, res, "apt-get update without rm -rf /var/lib/apt/lists/* in the same RUN")
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// packages returns the non-option arguments after the subcommand.
func packages(args []string) []string {
	var out []string
	seenSub := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--option":
			i++ // its value
		case strings.HasPrefix(a, "-"):
		case !seenSub:
			seenSub = true
		default:
			out = append(out, a)
		}
	}
	return out
}

var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ash": true, "ksh": true,
	"python": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true}

func downloads(words []string) bool {
	for _, w := range words {
		if b := base(w); b == "curl" || b == "wget" || b == "fetch" {
			return true
		}
		if strings.Contains(w, "$(curl") || strings.Contains(w, "$(wget") || strings.Contains(w, "`curl") ||
			strings.Contains(w, "`wget") || strings.Contains(w, "<(curl") || strings.Contains(w, "<(wget") {
			return true
		}
	}
	return false
}

// pipeToShell reports a shell command that reads a download: curl … | sh
// (downloading: an earlier command of the same pipeline downloads),
// wget -O- … | sudo bash, sh -c "$(curl …)", bash <(curl …).
func pipeToShell(downloading bool, name string, args []string) string {
	if !shells[name] {
		return ""
	}
	if downloading {
		return fmt.Sprintf("a download is piped into %s", name)
	}
	for _, a := range args {
		if downloads([]string{a}) && (strings.Contains(a, "$(") || strings.Contains(a, "`") || strings.HasPrefix(a, "<(")) {
			return fmt.Sprintf("%s runs a script downloaded on the fly", name)
		}
	}
	return ""
}

// checkChmod reports modes that make files world-writable outside the
// temporary directories.
func (f *file) checkChmod(in *inst, res string, args []string) bool {
	var mode string
	var targets []string
	for _, a := range args {
		if mode == "" && strings.HasPrefix(a, "-") && !isSymbolicMode(a) {
			continue // -R, -v, --recursive
		}
		if mode == "" {
			mode = a
			continue
		}
		targets = append(targets, a)
	}
	if mode == "" || !worldWritable(mode) {
		return false
	}
	tmp := len(targets) > 0
	for _, t := range targets {
		if !tmpPath(t) {
			tmp = false
		}
	}
	if tmp {
		return false
	}
	fd := f.add(misconfig.DFChmodWorld, f.locate(in, "chmod"), res,
		fmt.Sprintf("chmod %s makes %s writable by every user", mode, strings.Join(targets, " ")))
	fd.Fix = fmt.Sprintf("chown app:app %s && chmod u=rwX,g=rX,o=rX %s   (or COPY --chown=app:app --chmod=755 …)", strings.Join(targets, " "), strings.Join(targets, " "))
	return true
}

func tmpPath(p string) bool {
	p = strings.TrimRight(p, "/")
	for _, t := range []string{"/tmp", "/var/tmp", "/dev/shm"} {
		if p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

func isSymbolicMode(a string) bool {
	return strings.HasPrefix(a, "-") && strings.ContainsAny(a[1:], "rwxXst") && !strings.ContainsAny(a[1:], "Rvcfh-")
}

// worldWritable parses a chmod mode (octal or symbolic).
func worldWritable(mode string) bool {
	if allDigits(mode) {
		v, err := strconv.ParseUint(mode, 8, 32)
		return err == nil && v&0o002 != 0
	}
	for _, clause := range strings.Split(mode, ",") {
		i := 0
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			i++
		}
		who := clause[:i]
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '=' && op != '-' {
				break
			}
			j := i + 1
			for j < len(clause) && strings.IndexByte("+-=", clause[j]) < 0 {
				j++
			}
			perms := clause[i+1 : j]
			if op != '-' && strings.ContainsAny(perms, "w") && strings.ContainsAny(who, "oa") {
				return true
			}
			i = j
		}
	}
	return false
}
