#!/usr/bin/env bash
# bench/compare-lang.sh: the language packages bulkhead, Syft and Trivy
# report for the same image, the polyglot fixture (.fixtures/poly.tar:
# Debian 12 + curl + an npm app + a Go binary, then Debian's jackson-databind
# jar and python3-requests via apt, a Python venv, a copy of the jar in
# /app/lib and an express app in /srv/web).
#
#   bench/compare-lang.sh                  # the polyglot fixture
#   IMAGE=app.tar bench/compare-lang.sh    # any docker-archive
#
# A package is compared by PURL type, name and version (qualifiers dropped,
# names lowercased; Trivy's "v" prefix on the Go toolchain version removed).
# bulkhead's own set includes the other-ecosystem identifiers it keeps on OS
# packages (CycloneDX evidence.identity): Debian's python3-requests is
# reported once, as the deb, and also identified as pkg:pypi/requests.
# The check that matters: every package BOTH peers report is in bulkhead's
# SBOM. Also timed: RUNS cold runs of each tool (median wall, CPU, RSS).
#
# Environment: RUNS (default 3), PEERS_BIN (default $HOME/peers/bin), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
FX=${BULKHEAD_FIXTURES:-$ROOT/.fixtures}
PEERS_BIN=${PEERS_BIN:-$HOME/peers/bin}
export SYFT_CHECK_FOR_APP_UPDATE=false
die() { printf 'compare-lang.sh: %s\n' "$*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is needed (apt-get install -y jq)"
[ -x /usr/bin/time ] || die "GNU time is needed (apt-get install -y time)"

if [ -z "${IMAGE:-}" ]; then
	make -s fixtures
	IMAGE=$FX/poly.tar
fi
[ -f "$IMAGE" ] || die "no docker-archive at $IMAGE"
IMAGE=$(realpath "$IMAGE")
make -s build
OUT=${OUT:-$(mktemp -d /tmp/bulkhead-compare-lang.XXXXXX)}
mkdir -p "$OUT"/{sbom,times,cache}

TOOLS=(bulkhead)
[ -x "$PEERS_BIN/syft" ] && TOOLS+=(syft)
[ -x "$PEERS_BIN/trivy" ] && TOOLS+=(trivy)
[ ${#TOOLS[@]} -eq 3 ] || echo "(peers missing from $PEERS_BIN: compared with ${TOOLS[*]} only; see bench/compare.sh for how to build them)"

# Trivy's jar analyzer wants a Java DB even offline: an empty one will do.
TRIVY_CACHE=$OUT/cache/trivy
mkdir -p "$TRIVY_CACHE/java-db"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$TRIVY_CACHE/java-db/trivy-java.db" \
	'CREATE TABLE IF NOT EXISTS artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
CREATE TABLE IF NOT EXISTS indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT);'
printf '%s\n' '{"Version":1,"NextUpdate":"2099-01-01T00:00:00Z","UpdatedAt":"2025-01-01T00:00:00Z","DownloadedAt":"2025-01-01T00:00:00Z"}' >"$TRIVY_CACHE/java-db/metadata.json"

run_tool() { # run_tool TOOL OUTFILE
	case $1 in
	bulkhead) "$ROOT/bin/bulkhead" -q --cache-dir "$OUT/cache/bh" sbom "docker-archive:$IMAGE" --format cyclonedx-json --no-cache -o "$2" ;;
	syft) "$PEERS_BIN/syft" "docker-archive:$IMAGE" -q -o "cyclonedx-json=$2" ;;
	trivy) "$PEERS_BIN/trivy" image --cache-dir "$TRIVY_CACHE" --cache-backend memory --skip-db-update --skip-java-db-update \
		--offline-scan --skip-version-check --disable-telemetry --quiet --format cyclonedx --input "$IMAGE" -o "$2" ;;
	esac
}

echo "== language packages: ${TOOLS[*]} on $IMAGE ($(du -m "$IMAGE" | cut -f1) MiB); load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= RUNS; r++)); do
	for t in "${TOOLS[@]}"; do
		/usr/bin/time -f '%e %M %U %S' -o "$OUT/times/tmp" bash -c "$(declare -f run_tool); $(declare -p ROOT OUT IMAGE PEERS_BIN TRIVY_CACHE); run_tool $t $OUT/sbom/$t.cdx.json" ||
			die "$t failed"
		awk '{printf "%d %d %d\n", $1 * 1000, $2, ($3 + $4) * 1000}' "$OUT/times/tmp" >>"$OUT/times/$t"
	done
done

# One line per package: type/name@version, normalised.
norm='sub("\\?.*$"; "") | sub("#.*$"; "") | ascii_downcase | sub("^pkg:golang/stdlib@v"; "pkg:golang/stdlib@")'
for t in "${TOOLS[@]}"; do
	jq -r "[.. | objects | select(has(\"purl\")) | .purl | select(type == \"string\")
		| select((startswith(\"pkg:deb/\") or startswith(\"pkg:oci/\") or startswith(\"pkg:docker/\")) | not) | $norm] | unique | .[]" \
		"$OUT/sbom/$t.cdx.json" >"$OUT/$t.lang"
done
jq -r "[.. | objects | select(has(\"evidence\")) | .evidence.identity[]? | select(.field == \"purl\") | .concludedValue | $norm] | unique | .[]" \
	"$OUT/sbom/bulkhead.cdx.json" >"$OUT/bulkhead.other"
sort -u "$OUT/bulkhead.lang" "$OUT/bulkhead.other" >"$OUT/bulkhead.all"

echo
echo "language packages (type: count), own packages; bulkhead also keeps $(wc -l <"$OUT/bulkhead.other") other-ecosystem identifiers on debs:"
for t in "${TOOLS[@]}"; do
	printf '  %-9s %4d  %s\n' "$t" "$(wc -l <"$OUT/$t.lang")" \
		"$(sed 's|^pkg:\([^/]*\)/.*|\1|' "$OUT/$t.lang" | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')"
done
if [ ${#TOOLS[@]} -eq 3 ]; then
	comm -12 "$OUT/syft.lang" "$OUT/trivy.lang" >"$OUT/both.lang"
	missing=$(comm -23 "$OUT/both.lang" "$OUT/bulkhead.all")
	echo
	echo "reported by both Syft and Trivy: $(wc -l <"$OUT/both.lang"); missing from bulkhead: $(printf '%s' "$missing" | grep -c . || true)"
	[ -z "$missing" ] || printf '    %s\n' $missing
	for p in syft trivy; do
		o=$([ $p = syft ] && echo trivy || echo syft)
		only=$(comm -23 "$OUT/$p.lang" "$OUT/$o.lang")
		echo "only $p ($(printf '%s' "$only" | grep -c . || true)):"
		for x in $only; do
			if grep -qxF "$x" "$OUT/bulkhead.lang"; then w="bulkhead: a package"
			elif grep -qxF "$x" "$OUT/bulkhead.other"; then w="bulkhead: identifier of the deb that owns it"
			else w="bulkhead: no"; fi
			printf '    %-70s %s\n' "$x" "$w"
		done
	done
	extra=$(comm -23 "$OUT/bulkhead.lang" <(sort -u "$OUT/syft.lang" "$OUT/trivy.lang"))
	echo "only bulkhead ($(printf '%s' "$extra" | grep -c . || true)):"
	[ -z "$extra" ] || printf '    %s\n' $extra
fi

echo
echo "cold runs, median of $RUNS: wall s, CPU s (user+sys), peak RSS MiB"
for t in "${TOOLS[@]}"; do
	med() { cut -d' ' -f"$1" "$OUT/times/$t" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
	printf '  %-9s %6.2f %6.2f %6.0f\n' "$t" "$(awk -v x="$(med 1)" 'BEGIN{print x/1000}')" \
		"$(awk -v x="$(med 3)" 'BEGIN{print x/1000}')" "$(awk -v x="$(med 2)" 'BEGIN{print x/1024}')"
done
echo "(SBOMs and timings in $OUT)"
