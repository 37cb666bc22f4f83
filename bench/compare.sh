#!/usr/bin/env bash
# bench/compare.sh: bulkhead against Trivy and Syft on the same image, cold,
# in both image forms (docker-archive with plain layers, OCI layout with gzip
# layers): median wall time, CPU time (user+sys, the steadier number on a
# shared machine) and peak RSS over RUNS runs, the floor (reading
# and inflating the layers with no analysis), and a diff of the OS (deb)
# package sets and PURLs the three tools report.
#
#   bench/compare.sh                         # the demo image, RUNS=5 (then
#                                            # compare-vulns.sh and compare-lang.sh)
#   RUNS=3 bench/compare.sh
#   IMAGE=app.tar bench/compare.sh           # a docker-archive (OCI_LAYOUT unset: archive only)
#   IMAGE=app.tar OCI_LAYOUT=app-oci bench/compare.sh
#   IMAGE=app-oci/ bench/compare.sh          # an OCI layout dir only
#
# Environment:
#   RUNS=5            timed runs per tool and form (interleaved, after one untimed warm-up)
#   IMAGE, OCI_LAYOUT the image forms to compare (default .fixtures/demo.tar and .fixtures/demo-oci)
#   ROOTFS            an unpacked root filesystem of the image, used as the dpkg-query
#                     oracle (default .fixtures/rootfs-app for the demo image)
#   PEERS_BIN         where trivy and syft live (default $HOME/peers/bin; never in the repo)
#   INSTALL_PEERS=1   build missing peers into PEERS_BIN with the lines from ../shared/PEERS.md
#   OUT               directory for SBOMs, logs and timings (default: a new /tmp/bulkhead-compare.*)
#
# Needs go, jq and GNU time (/usr/bin/time); jq and time are installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
FX=${BULKHEAD_FIXTURES:-$ROOT/.fixtures}
PEERS_BIN=${PEERS_BIN:-$HOME/peers/bin}
NCPU=$(nproc)
export SYFT_CHECK_FOR_APP_UPDATE=false

say() { printf '%s\n' "$*"; }
hdr() { printf '\n== %s\n' "$*"; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }

need_apt() { # need_apt COMMAND PACKAGE
	[ -x "$1" ] || command -v "$1" >/dev/null 2>&1 && return 0
	say "installing $2 (apt-get install -y $2)"
	[ "$(id -u)" = 0 ] || die "need root to install $2: apt-get install -y $2"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# ---------------------------------------------------------------- setup
case "$(realpath -m "$PEERS_BIN")/" in
"$ROOT"/*) die "PEERS_BIN=$PEERS_BIN is inside the repository; put the peers elsewhere" ;;
esac
need_apt /usr/bin/time time
need_apt jq jq
command -v go >/dev/null || die "go is needed (make build)"

if [ -z "${IMAGE:-}" ]; then
	make -s fixtures
	ARCHIVE=$FX/demo.tar
	OCI=${OCI_LAYOUT-$FX/demo-oci}
	ROOTFS=${ROOTFS-$FX/rootfs-app}
elif [ -d "$IMAGE" ]; then
	ARCHIVE=""
	OCI=$IMAGE
	ROOTFS=${ROOTFS-}
else
	ARCHIVE=$IMAGE
	OCI=${OCI_LAYOUT-}
	ROOTFS=${ROOTFS-}
fi
[ -z "$ARCHIVE" ] || [ -f "$ARCHIVE" ] || die "no docker-archive at $ARCHIVE"
[ -z "$OCI" ] || [ -f "$OCI/index.json" ] || die "no OCI layout at $OCI"
ARCHIVE=${ARCHIVE:+$(realpath "$ARCHIVE")}
OCI=${OCI:+$(realpath "$OCI")}
make -s build
BULKHEAD=$ROOT/bin/bulkhead

TRIVY=$PEERS_BIN/trivy
SYFT=$PEERS_BIN/syft
missing=()
[ -x "$TRIVY" ] || missing+=(trivy)
[ -x "$SYFT" ] || missing+=(syft)
if [ ${#missing[@]} -gt 0 ]; then
	say "peers missing from $PEERS_BIN: ${missing[*]}. Build them once, outside the repository, one at a time"
	say "(on 2 cores Trivy takes ~7 min and 3.3 GiB of memory, Syft ~3.5 min):"
	say ""
	say "  export GOBIN=$PEERS_BIN CGO_ENABLED=0"
	say "  GOEXPERIMENT=jsonv2 go install github.com/aquasecurity/trivy/cmd/trivy@v0.74.0   # a plain install fails on encoding/json/v2"
	say "  go install github.com/anchore/syft/cmd/syft@v1.57.1"
	say ""
	if [ "${INSTALL_PEERS:-0}" = 1 ]; then
		mkdir -p "$PEERS_BIN"
		(
			cd "$HOME"
			export GOBIN=$PEERS_BIN CGO_ENABLED=0
			[ -x "$TRIVY" ] || GOEXPERIMENT=jsonv2 go install github.com/aquasecurity/trivy/cmd/trivy@v0.74.0
			[ -x "$SYFT" ] || go install github.com/anchore/syft/cmd/syft@v1.57.1
		)
	else
		say "(INSTALL_PEERS=1 runs these lines; continuing without: ${missing[*]})"
	fi
fi
TOOLS=(bulkhead)
[ -x "$TRIVY" ] && TOOLS+=(trivy)
[ -x "$SYFT" ] && TOOLS+=(syft)

OUT=${OUT:-$(mktemp -d /tmp/bulkhead-compare.XXXXXX)}
mkdir -p "$OUT"/{sbom,log,times,pkgs,cache}
FORMS=()
[ -n "$ARCHIVE" ] && FORMS+=(docker-archive)
[ -n "$OCI" ] && FORMS+=(oci-layout)

# Trivy's jar analyzer wants a Java DB even offline: an empty one will do.
TRIVY_CACHE=$OUT/cache/trivy
if [[ " ${TOOLS[*]} " == *" trivy "* ]]; then
	mkdir -p "$TRIVY_CACHE/java-db"
	schema='CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT);'
	db=$TRIVY_CACHE/java-db/trivy-java.db
	if [ ! -s "$db" ]; then
		if command -v sqlite3 >/dev/null; then
			sqlite3 "$db" "$schema"
		elif command -v python3 >/dev/null; then
			python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$db" "$schema"
		else
			need_apt sqlite3 sqlite3
			sqlite3 "$db" "$schema"
		fi
	fi
	printf '%s\n' '{"Version":1,"NextUpdate":"2099-01-01T00:00:00Z","UpdatedAt":"2025-01-01T00:00:00Z","DownloadedAt":"2025-01-01T00:00:00Z"}' \
		>"$TRIVY_CACHE/java-db/metadata.json"
fi

# cmd_for TOOL FORM OUTFILE [warm]: the command line, one word per line.
cmd_for() {
	local tool=$1 form=$2 out=$3 warm=${4:-}
	local src
	case $tool in
	bulkhead)
		if [ "$form" = docker-archive ]; then src=docker-archive:$ARCHIVE; else src=oci-layout:$OCI; fi
		if [ -n "$warm" ]; then
			printf '%s\n' "$BULKHEAD" -q --cache-dir "$OUT/cache/bulkhead-warm-$form" sbom "$src" --format cyclonedx-json -o "$out"
		else
			printf '%s\n' "$BULKHEAD" -q --cache-dir "$OUT/cache/bulkhead-cold" sbom "$src" --format cyclonedx-json --no-cache -o "$out"
		fi
		;;
	trivy)
		# --input takes both a docker-archive tarball and an OCI layout directory.
		if [ "$form" = docker-archive ]; then src=$ARCHIVE; else src=$OCI; fi
		printf '%s\n' "$TRIVY" image --cache-dir "$TRIVY_CACHE" --cache-backend memory \
			--skip-db-update --skip-java-db-update --offline-scan --skip-version-check --disable-telemetry \
			--quiet --format cyclonedx --input "$src" -o "$out"
		;;
	syft)
		if [ "$form" = docker-archive ]; then src=docker-archive:$ARCHIVE; else src=oci-dir:$OCI; fi
		printf '%s\n' "$SYFT" "$src" -q -o "cyclonedx-json=$out"
		;;
	esac
}

# timed LABEL CMD...: appends "wall_ms peak_kib cpu_ms" (cpu = user+sys) to $OUT/times/LABEL.
timed() {
	local label=$1 t0 t1
	shift
	t0=$(date +%s%N)
	if ! /usr/bin/time -f '%e %M %U %S' -o "$OUT/log/time.tmp" "$@" >"$OUT/log/$label.out" 2>"$OUT/log/$label.err"; then
		say "FAILED: $label: $*"
		tail -5 "$OUT/log/$label.err"
		return 1
	fi
	t1=$(date +%s%N)
	printf '%d %s\n' $(((t1 - t0) / 1000000)) "$(awk 'END{printf "%d %d", $2, ($3 + $4) * 1000}' "$OUT/log/time.tmp")" >>"$OUT/times/$label"
}

# stats LABEL → "median_s min_s max_s median_MiB max_MiB n median_cpu_s"
stats() {
	awk '{ t[NR]=$1/1000; m[NR]=$2/1024; c[NR]=$3/1000 }
	function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
	END { if (!NR) { print "- - - - - 0 -"; exit } n = NR
		printf "%.3f ", med(t, n); printf "%.3f %.3f ", t[1], t[n]; printf "%.0f %.0f %d ", med(m, n), m[n], n; printf "%.2f\n", med(c, n) }' "$OUT/times/$1"
}

# ---------------------------------------------------------------- machine
hdr "machine"
say "$(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)  (other jobs share these CPUs: medians of $RUNS interleaved runs)"
vers="bulkhead: $("$BULKHEAD" version 2>/dev/null | head -1)"
[ -x "$TRIVY" ] && vers+="; trivy: $TRIVY (built as v0.74.0 per PEERS.md; --version says $("$TRIVY" --version 2>/dev/null | awk '/Version/{print $2; exit}'))"
[ -x "$SYFT" ] && vers+="; syft: $SYFT (v1.57.1 per PEERS.md)"
say "$vers"
[ -n "$ARCHIVE" ] && say "docker-archive: $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MiB)"
[ -n "$OCI" ] && say "oci-layout:     $OCI ($(du -sm "$OCI" | cut -f1) MiB)"
say "output in $OUT"

# ---------------------------------------------------------------- warm-up: the SBOMs compared below
hdr "warm-up (untimed): one run of each tool and form; these SBOMs are the ones compared"
for form in "${FORMS[@]}"; do
	for tool in "${TOOLS[@]}"; do
		mapfile -t cmd < <(cmd_for "$tool" "$form" "$OUT/sbom/$tool-$form.cdx.json")
		timed "warmup-$tool-$form" "${cmd[@]}" || die "$tool failed on $form (see $OUT/log)"
		say "  $tool $form: $(awk 'END{printf "%.2f s", $1/1000}' "$OUT/times/warmup-$tool-$form")"
	done
	# fill bulkhead's cache for the warm runs
	mapfile -t cmd < <(cmd_for bulkhead "$form" "$OUT/sbom/bulkhead-$form-warm.cdx.json" warm)
	timed "fill-bulkhead-$form" "${cmd[@]}"
done

# ---------------------------------------------------------------- timed runs
hdr "timed runs: $RUNS per tool and form, interleaved"
for ((r = 1; r <= RUNS; r++)); do
	line="run $r:"
	for form in "${FORMS[@]}"; do
		for tool in "${TOOLS[@]}"; do
			mapfile -t cmd < <(cmd_for "$tool" "$form" "$OUT/sbom/run-$tool-$form.cdx.json")
			timed "$tool-$form" "${cmd[@]}"
			line+=" $tool/$form $(awk 'END{printf "%.2f", $1/1000}' "$OUT/times/$tool-$form")"
		done
		mapfile -t cmd < <(cmd_for bulkhead "$form" "$OUT/sbom/run-bulkhead-$form-warm.cdx.json" warm)
		timed "bulkhead-warm-$form" "${cmd[@]}"
		line+=" bulkhead-warm/$form $(awk 'END{printf "%.2f", $1/1000}' "$OUT/times/bulkhead-warm-$form")"
	done
	say "$line"
done

# ---------------------------------------------------------------- floor
hdr "floor: reading the layers with no analysis ($RUNS runs each)"
FLOOR=$OUT/gunzipfloor
go build -o "$FLOOR" ./bench/gunzipfloor
floor_rows=()
# floor_med: "MEDIAN_S CPU_S" from a gunzipfloor result line
floor_med() { awk '{for (i = 1; i <= NF; i++) { if ($i == "median") m = $(i+1); if ($i == "CPU") c = $(i+1) } print m, c}'; }
if [ -n "$ARCHIVE" ]; then
	for ((r = 1; r <= RUNS; r++)); do timed floor-cat sh -c 'cat "$1" >/dev/null' sh "$ARCHIVE"; done
	read -r med mn mx _ _ _ cpu <<<"$(stats floor-cat)"
	say "  cat demo.tar >/dev/null                          median $med s (min $mn, max $mx)"
	floor_rows+=("floor|docker-archive|cat the tarball|$med $cpu")
	o=$("$FLOOR" -q -n "$RUNS" -mode sha256 "$ARCHIVE")
	say "  sha256 of the whole tarball (Go, 1 core):        $o"
	floor_rows+=("floor|docker-archive|sha256 of the tarball|$(floor_med <<<"$o")")
fi
if [ -n "$OCI" ]; then
	# index.json → manifest (→ the host-arch manifest of an index) → layer blobs
	blob() { printf '%s/blobs/%s\n' "$OCI" "$(tr ':' '/' <<<"$1")"; }
	m=$(jq -r '.manifests[0].digest' "$OCI/index.json")
	if jq -e '.manifests' "$(blob "$m")" >/dev/null 2>&1; then
		arch=$(go env GOARCH)
		m=$(jq -r --arg a "$arch" '[.manifests[] | select(.platform.architecture == $a)][0].digest' "$(blob "$m")")
	fi
	mapfile -t LAYERS < <(jq -r '.layers[].digest' "$(blob "$m")" | while read -r d; do blob "$d"; done)
	gz=0
	for l in "${LAYERS[@]}"; do gz=$((gz + $(stat -c %s "$l"))); done
	say "  ${#LAYERS[@]} layers, $((gz / 1048576)) MiB stored"
	for ((r = 1; r <= RUNS; r++)); do
		timed floor-gzip sh -c 'for f; do gzip -dc "$f"; done | wc -c >/dev/null' sh "${LAYERS[@]}"
	done
	read -r med mn mx _ _ _ cpu <<<"$(stats floor-gzip)"
	say "  gzip -dc | wc -c, layers one after another      median $med s (min $mn, max $mx)"
	floor_rows+=("floor|oci-layout|gzip -dc, sequential|$med $cpu")
	o=$("$FLOOR" -q -n "$RUNS" -mode gunzip -parallel 1 "${LAYERS[@]}")
	say "  klauspost gunzip, sequential:                    $o"
	floor_rows+=("floor|oci-layout|klauspost gunzip, sequential|$(floor_med <<<"$o")")
	o=$("$FLOOR" -q -n "$RUNS" -mode gunzip -parallel "$NCPU" "${LAYERS[@]}")
	say "  klauspost gunzip, layers in parallel:            $o"
	floor_rows+=("floor|oci-layout|klauspost gunzip, parallel|$(floor_med <<<"$o")")
	o=$("$FLOOR" -q -n "$RUNS" -mode tar -parallel "$NCPU" "${LAYERS[@]}")
	say "  gunzip+sha256+tar walk, layers in parallel:      $o"
	floor_rows+=("floor|oci-layout|gunzip+sha256+tar, parallel|$(floor_med <<<"$o")")
fi

# ---------------------------------------------------------------- OS package sets
hdr "OS (deb) packages: CycloneDX components whose purl is pkg:deb/..."
# One TSV row per deb component: name, version, purl namespace, purl name,
# purl version (percent-decoded), purl version as written, qualifiers
# (decoded, sorted by key, k=v&...), purl as written.
JQ_DEB='
def pdecode: [scan("%[0-9A-Fa-f]{2}|[^%]+|%")
	| if test("^%[0-9A-Fa-f]{2}$")
	  then (.[1:] | ascii_downcase | explode | map(if . >= 97 then . - 87 else . - 48 end) | [.[0] * 16 + .[1]] | implode)
	  else . end] | join("");
def quals: split("&") | map(select(length > 0) | split("=") | {k: (.[0] | pdecode), v: (.[1:] | join("=") | pdecode)})
	| sort_by(.k) | map("\(.k)=\(.v)") | join("&");
[.. | objects | select(has("purl") and (.purl | type) == "string" and (.purl | startswith("pkg:deb/")))]
| unique_by(.purl) | .[]
| (.purl | split("#")[0] | split("?")) as $pq
| ($pq[0] | capture("^pkg:deb/(?<ns>[^/]*)/(?<name>[^@]*)(@(?<ver>.*))?$")) as $c
| [.name, (.version // ""), ($c.ns | pdecode), ($c.name | pdecode), (($c.ver // "") | pdecode), ($c.ver // ""), (($pq[1] // "") | quals), .purl]
| @tsv'
for form in "${FORMS[@]}"; do
	for tool in "${TOOLS[@]}"; do
		jq -r "$JQ_DEB" "$OUT/sbom/$tool-$form.cdx.json" | sort -u >"$OUT/pkgs/$tool-$form.tsv"
	done
done
ORACLE=""
if [ -n "$ROOTFS" ] && [ -f "$ROOTFS/var/lib/dpkg/status" ] && command -v dpkg-query >/dev/null; then
	ORACLE=$OUT/pkgs/dpkg-query.tsv
	dpkg-query --admindir "$ROOTFS/var/lib/dpkg" -W -f '${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n' >"$OUT/pkgs/dpkg-all.tsv"
	awk -F'\t' '$1 == "installed" {print $2 "\t" $3 "\t\t\t\t\tarch=" $4}' "$OUT/pkgs/dpkg-all.tsv" | sort -u >"$ORACLE"
	say "oracle: dpkg-query --admindir $ROOTFS/var/lib/dpkg: $(wc -l <"$OUT/pkgs/dpkg-all.tsv") records, by status: $(cut -f1 "$OUT/pkgs/dpkg-all.tsv" | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')"
fi

for form in "${FORMS[@]}"; do
	say ""
	say "-- $form"
	files=() labels=()
	for tool in "${TOOLS[@]}"; do files+=("$OUT/pkgs/$tool-$form.tsv"); labels+=("$tool"); done
	[ -n "$ORACLE" ] && files+=("$ORACLE") && labels+=("dpkg-query")
	counts="counts:"
	for i in "${!files[@]}"; do counts+=" ${labels[$i]} $(wc -l <"${files[$i]}")"; done
	say "$counts"
	for tool in "${TOOLS[@]}"; do
		other=$(jq -r '[.components[]? | .. | objects | select(has("purl") and (.purl | type) == "string") | .purl] | unique | .[]
			| select(startswith("pkg:deb/") | not) | sub("^pkg:(?<t>[^/]+)/.*"; "\(.t)")' "$OUT/sbom/$tool-$form.cdx.json" |
			sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')
		say "  (not compared) other purls in $tool's SBOM: ${other:-none}"
	done
	# presence of each name+version (and arch, from the purl) in each list
	awk -F'\t' -v labels="${labels[*]}" '
	BEGIN { nl = split(labels, L, " "); for (i = 1; i < ARGC; i++) idx[ARGV[i]] = i }
	{ f = idx[FILENAME]; k = $1 " " $2; seen[k] = seen[k] f ","; keys[k] = 1
	  if (match($7, /(^|&)arch=[^&]*/)) { a = substr($7, RSTART, RLENGTH); sub(/^&/, "", a); arch[k, f] = substr(a, 6) } }
	END {
		for (k in keys) {
			n = split(seen[k], s, ","); have = ""; miss = ""
			for (i = 1; i <= nl; i++) { h = index("," seen[k], "," i ",") > 0; if (h) have = have (have ? "+" : "") L[i]; else miss = miss (miss ? "+" : "") L[i] }
			if (miss != "") { if (!(have in grp)) ngrp++; grp[have] = grp[have] "    " k "\n"; cnt[have]++ }
			# same name+version, different arch
			for (i = 1; i <= nl; i++) for (j = i + 1; j <= nl; j++)
				if (((k, i) in arch) && ((k, j) in arch) && arch[k, i] != arch[k, j])
					archdiff = archdiff sprintf("    %s: %s arch=%s, %s arch=%s\n", k, L[i], arch[k, i], L[j], arch[k, j])
		}
		if (!ngrp) printf "same name+version set in all %d lists\n", nl
		for (g in grp) { printf "only in %s (%d):\n%s", g, cnt[g], grp[g] }
		if (archdiff != "") printf "arch differs:\n%s", archdiff
	}' "${files[@]}"

	# PURLs of the packages bulkhead and a peer both report
	for peer in "${TOOLS[@]:1}"; do
		awk -F'\t' -v peer="$peer" '
		function qmap(s, m,   n, i, p, kv) { delete m; n = split(s, p, "&"); for (i = 1; i <= n; i++) if (p[i] != "") { kv = index(p[i], "="); m[substr(p[i], 1, kv-1)] = substr(p[i], kv+1) } }
		# add records one difference; value pairs of the same shape (X vs X@version,
		# E:V vs V) are grouped together.
		function add(field, a, b, pkg,   g) {
			if (a != "has it" && a != "has none" && b != "has it" && b != "has none") {
				if (index(b, a "@") == 1) { pkg = pkg " " a " vs " b; a = "X"; b = "X@<source version>" }
				else if (index(a, b "@") == 1) { pkg = pkg " " a " vs " b; a = "X@<source version>"; b = "X" }
				else if (a ~ /^[0-9]+:/ && substr(a, index(a, ":") + 1) == b) { pkg = pkg " " a; a = "EPOCH:V"; b = "V" }
				else if (b ~ /^[0-9]+:/ && substr(b, index(b, ":") + 1) == a) { pkg = pkg " " b; a = "V"; b = "EPOCH:V" }
			}
			g = field SUBSEP a SUBSEP b
			if (!(g in gn)) { order[++ng] = g; nfield[field]++ }
			gn[g]++; if (gn[g] <= 4) ex[g] = ex[g] (gn[g] > 1 ? ", " : "") pkg; total[field]++
			if (total[field] <= 3) fex[field] = fex[field] sprintf("\n        %s: bulkhead %s, %s %s", pkg, a, peer, b)
		}
		FNR == NR { bh[$1 " " $2] = $0; next }
		{
			k = $1 " " $2; if (!(k in bh)) next
			split(bh[k], x, "\t"); both++
			if (x[8] == $8) { same++; next }
			if (x[3] != $3) add("namespace", x[3], $3, $1)
			if (x[4] != $4) add("purl name", x[4], $4, $1)
			if (x[5] != $5) add("purl version", x[5], $5, $1)
			else if (x[6] != $6) { enc++; if (enc <= 3) encex = encex (enc > 1 ? ", " : "") $1 " (" x[6] " vs " $6 ")" }
			qmap(x[7], qa); qmap($7, qb)
			for (q in qa) if (!(q in qb)) add("qualifier " q, "has it", "has none", $1 "=" qa[q])
			for (q in qb) if (!(q in qa)) add("qualifier " q, "has none", "has it", $1 "=" qb[q])
			for (q in qa) if ((q in qb) && qa[q] != qb[q]) add("qualifier " q, qa[q], qb[q], $1)
		}
		END {
			printf "purls, bulkhead vs %s: %d packages in both, %d identical purls\n", peer, both, same
			if (enc) printf "  version written differently but equal once percent-decoded: %d (e.g. %s)\n", enc, encex
			for (i = 1; i <= ng; i++) {
				split(order[i], p, SUBSEP); f = p[1]
				if (nfield[f] > 6) {   # too many distinct value pairs: summarise the field
					if (!(f in done)) { done[f] = 1; printf "  %s differs for %d packages (%d distinct value pairs), e.g.%s\n", f, total[f], nfield[f], fex[f] }
					continue
				}
				if (p[2] == "has it" || p[2] == "has none") printf "  %s: bulkhead %s, %s %s: %d packages (%s%s)\n", f, p[2], peer, p[3], gn[order[i]], ex[order[i]], (gn[order[i]] > 4 ? ", ..." : "")
				else printf "  %s: bulkhead \"%s\" vs %s \"%s\": %d packages (%s%s)\n", f, p[2], peer, p[3], gn[order[i]], ex[order[i]], (gn[order[i]] > 4 ? ", ..." : "")
			}
		}' "$OUT/pkgs/bulkhead-$form.tsv" "$OUT/pkgs/$peer-$form.tsv"
	done
done

if [ ${#FORMS[@]} -eq 2 ]; then
	say ""
	say "-- docker-archive vs oci-layout, same tool"
	for tool in "${TOOLS[@]}"; do
		if cmp -s <(cut -f1,2,8 "$OUT/pkgs/$tool-docker-archive.tsv") <(cut -f1,2,8 "$OUT/pkgs/$tool-oci-layout.tsv"); then
			say "  $tool: identical deb purls"
		else
			say "  $tool: differ:"
			diff <(cut -f8 "$OUT/pkgs/$tool-docker-archive.tsv") <(cut -f8 "$OUT/pkgs/$tool-oci-layout.tsv") | sed 's/^/    /' | head -20 || true
		fi
	done
fi

# ---------------------------------------------------------------- summary
hdr "summary: cold runs unless noted; wall = median of $RUNS (min-max), CPU = median user+sys, RSS = median peak; x = ratio to bulkhead cold on the same form"
row() {
	local a=("$@")
	while [ ${#a[@]} -lt 10 ]; do a+=(""); done
	printf '%-14s %-15s %8s %14s %7s %8s %7s %7s %6s  %s\n' "${a[@]}"
}
row tool form "wall s" "min-max s" "CPU s" "RSS MiB" "x wall" "x CPU" "x RSS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || a == "-" || b == "-" || b == 0) print "-"; else { r = a / b; printf (r < 1 ? "%.2f" : "%.1f"), r } }'; }
for form in "${FORMS[@]}"; do
	read -r bmed _ _ bmem _ _ bcpu <<<"$(stats "bulkhead-$form")"
	for label in "${TOOLS[@]}" bulkhead-warm; do
		if [ "$label" = bulkhead-warm ]; then key=bulkhead-warm-$form; name="bulkhead warm"; else key=$label-$form; name=$label; fi
		read -r med mn mx mem _ _ cpu <<<"$(stats "$key")"
		row "$name" "$form" "$med" "$mn-$mx" "$cpu" "$mem" "$(ratio "$med" "$bmed")" "$(ratio "$cpu" "$bcpu")" "$(ratio "$mem" "$bmem")"
	done
	for r in "${floor_rows[@]}"; do
		IFS='|' read -r _ f what medcpu <<<"$r"
		[ "$f" = "$form" ] || continue
		read -r med cpu <<<"$medcpu"
		row "floor" "$form" "$med" "" "$cpu" "" "$(ratio "$med" "$bmed")" "$(ratio "$cpu" "$bcpu")" "" "$what"
	done
done
say ""
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); SBOMs, logs and raw timings (ms, KiB) in $OUT"

# Vulnerabilities: bulkhead vs osv-scanner on the same OSV data.
if [ -x "${PEERS_BIN:-$HOME/peers/bin}/osv-scanner" ]; then
	echo
	echo "== vulnerabilities (bench/compare-vulns.sh)"
	RUNS="${RUNS:-5}" bash "$(dirname "$0")/compare-vulns.sh"
else
	echo "(osv-scanner not built: skipping the vulnerability comparison; see ../shared/PEERS.md)"
fi

# Language packages: bulkhead vs Syft and Trivy on the polyglot fixture.
if [ -z "${IMAGE:-}" ]; then
	echo
	echo "== language packages (bench/compare-lang.sh)"
	RUNS="${RUNS:-5}" bash "$(dirname "$0")/compare-lang.sh"
fi
