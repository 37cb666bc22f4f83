#!/usr/bin/env bash
# Compares bulkhead's vulnerability findings and speed with osv-scanner's on
# the demo image, both matching offline against the same OSV data
# (../shared/osv-sample, or OSV_SAMPLE=DIR laid out as <Ecosystem>/all.zip).
#
#   bench/compare-vulns.sh            # RUNS=5 by default
#
# osv-scanner is expected in ${PEERS_BIN:-$HOME/peers/bin} (see
# ../shared/PEERS.md: GOTOOLCHAIN=go1.27.3 go install
# github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PEERS_BIN=${PEERS_BIN:-$HOME/peers/bin}
SAMPLE=${OSV_SAMPLE:-$(cd .. && pwd)/shared/osv-sample}
IMAGE=${IMAGE:-.fixtures/demo.tar}
OUT=${OUT:-$(mktemp -d /tmp/bulkhead-vulns.XXXX)}
command -v jq >/dev/null || { echo "needs jq (apt-get install -y jq)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }
[ -x "$PEERS_BIN/osv-scanner" ] || { echo "no osv-scanner in $PEERS_BIN" >&2; exit 2; }
[ -f "$IMAGE" ] || make fixtures >/dev/null
make build >/dev/null

echo "== data: $SAMPLE"
bin/bulkhead --cache-dir "$OUT/bh" db import "$SAMPLE" -q >/dev/null
mkdir -p "$OUT/osv/osv-scalibr"
for d in "$SAMPLE"/*/; do
	e=$(basename "$d")
	mkdir -p "$OUT/osv/osv-scalibr/$e"
	cp "$d/all.zip" "$OUT/osv/osv-scalibr/$e/"
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$RUNS"); do
	/usr/bin/time -a -o "$OUT/bh.time" -f '%e %U %S %M' \
		bin/bulkhead --cache-dir "$OUT/bh" scan image "$IMAGE" --no-cache -q -f json -o "$OUT/bh.json"
	/usr/bin/time -a -o "$OUT/osv.time" -f '%e %U %S %M' \
		"$PEERS_BIN/osv-scanner" scan image --archive --offline --local-db-path "$OUT/osv" --format json "$IMAGE" \
		>"$OUT/osv.json" 2>"$OUT/osv.err" || true
done

# Findings as "package version advisory-id", one per advisory id.
jq -r '.vulnerabilities[] | . as $v | .advisories[] | "\($v.package.name) \($v.package.version) \(.)"' "$OUT/bh.json" | sort -u >"$OUT/bh.ids"
jq -r '.results[]?.packages[]? | .package as $p | .vulnerabilities[]? | "\($p.name) \($p.version) \(.id)"' "$OUT/osv.json" |
	sed -E 's/^([^ ]+) v?/\1 /' | sort -u >"$OUT/osv.ids"
sed -i -E 's/^([^ ]+) v/\1 /' "$OUT/bh.ids"
echo "== findings (package version advisory)"
echo "bulkhead: $(wc -l <"$OUT/bh.ids")   osv-scanner: $(wc -l <"$OUT/osv.ids")"
echo "-- only bulkhead:"; comm -23 "$OUT/bh.ids" "$OUT/osv.ids" | sed 's/^/   /'
echo "-- only osv-scanner:"; comm -13 "$OUT/bh.ids" "$OUT/osv.ids" | sed 's/^/   /'
echo "== time, median of $RUNS cold runs (wall s, CPU s, peak RSS MiB)"
for t in bh osv; do
	grep -E "^[0-9]" "$OUT/$t.time" >"$OUT/$t.t" || true
	w=$(awk '{print $1}' "$OUT/$t.t" | median)
	c=$(awk '{print $2+$3}' "$OUT/$t.t" | median)
	m=$(awk '{print int($4/1024)}' "$OUT/$t.t" | median)
	printf '%-12s %6s %6s %6s\n' "$([ $t = bh ] && echo bulkhead || echo osv-scanner)" "$w" "$c" "$m"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   output in $OUT"
