#!/usr/bin/env bash
# Compare this build with the stored baseline, for CI.
#
# usage: bench/check.sh [--update]
# 1. Results are exact: scenarios/cascade-small.yaml on 2 ranks must give
#    the same results as bench/baseline/cascade-small.json (timings and run
#    information aside). A policy whose blast radius grew is reported as
#    such; any other difference fails too, since the same scenario and seed
#    must give the same answer.
# 2. Speed and memory: scenarios/cascade.yaml on 2 ranks must not take more
#    than TOLERANCE (default 1.5) times the baseline's wall time, nor more
#    than MEMORY_TOLERANCE (default 1.2) times its summed peak RSS.
# --update rewrites the baseline from this build instead of checking.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./trustchain}
TOLERANCE=${TOLERANCE:-1.5}
MEMORY_TOLERANCE=${MEMORY_TOLERANCE:-1.2}
base=bench/baseline
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$base"

mpiexec -n 2 "$BIN" run scenarios/cascade-small.yaml -q -o "$tmp/small.json" >/dev/null
jq -S 'del(.timings, .run)' "$tmp/small.json" >"$tmp/small.results"
start=$(date +%s.%N)
mpiexec -n 2 "$BIN" run scenarios/cascade.yaml -q -o "$tmp/big.json" >/dev/null
wall=$(echo "$(date +%s.%N) - $start" | bc -l)
rss=$(jq '.run.peak_rss_bytes_sum' "$tmp/big.json")

if [ "${1:-}" = --update ]; then
    cp "$tmp/small.results" "$base/cascade-small.json"
    jq -n --argjson wall "$wall" --argjson rss "$rss" \
        '{cascade_wall_seconds: ($wall * 1000 | round / 1000), cascade_peak_rss_bytes_sum: $rss}' \
        >"$base/performance.json"
    echo "baseline updated: $base/cascade-small.json, $base/performance.json"
    exit 0
fi

status=0
if ! cmp -s "$base/cascade-small.json" "$tmp/small.results"; then
    status=1
    jq -r --slurpfile old "$base/cascade-small.json" '
        .policies[] as $p | ($old[0].policies[] | select(.name == $p.name)) as $o |
        select($p.compromised != $o.compromised) |
        "policy \($p.name): blast radius \(if $p.compromised > $o.compromised then "WIDENED" else "narrowed" end) from \($o.compromised) to \($p.compromised)"' \
        "$tmp/small.json"
    echo "results differ from $base/cascade-small.json:"
    diff <(jq . "$base/cascade-small.json") "$tmp/small.results" | head -40 || true
    echo "if the change is intended, run: bench/check.sh --update"
fi

old_wall=$(jq '.cascade_wall_seconds' "$base/performance.json")
old_rss=$(jq '.cascade_peak_rss_bytes_sum' "$base/performance.json")
printf 'cascade on 2 ranks: %.2f s (baseline %.2f s, ratio %.2f), peak RSS %d MiB (baseline %d MiB, ratio %.2f)\n' \
    "$wall" "$old_wall" "$(echo "$wall / $old_wall" | bc -l)" "$((rss / 1048576))" \
    "$((old_rss / 1048576))" "$(echo "$rss / $old_rss" | bc -l)"
if [ "$(echo "$wall > $old_wall * $TOLERANCE" | bc -l)" = 1 ]; then
    echo "FAIL: wall time above $TOLERANCE x baseline"
    status=1
fi
if [ "$(echo "$rss > $old_rss * $MEMORY_TOLERANCE" | bc -l)" = 1 ]; then
    echo "FAIL: peak memory above $MEMORY_TOLERANCE x baseline"
    status=1
fi
[ "$status" -eq 0 ] && echo "bench-check passed"
exit "$status"
