#!/usr/bin/env bash
# Time the Cascade replay end to end and measure each rank's peak memory.
#
# usage: bench/cascade.sh [SCENARIO] [RANKS]
#   SCENARIO  default scenarios/cascade.yaml
#   RANKS     default 2
# Writes bench/results/<scenario>-<ranks>r.json (the run's result, with
# timings) and prints: wall time, topology time, per-policy compile and
# simulate times, each rank's maximum RSS (/usr/bin/time -v) and their sum
# in bytes per workload.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${1:-scenarios/cascade.yaml}
RANKS=${2:-2}
BIN=${BIN:-./trustchain}
name=$(basename "$SCENARIO" .yaml)
mkdir -p bench/results
out=bench/results/$name-${RANKS}r.json
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

start=$(date +%s.%N)
mpiexec -n "$RANKS" bash -c '/usr/bin/time -v -o "$0/time.$PMI_RANK" "$1" run "$2" -q -o "$3"' \
    "$log" "$BIN" "$SCENARIO" "$out" >"$log/stdout"
end=$(date +%s.%N)

workloads=$(jq '.topology.workloads' "$out")
echo "scenario: $SCENARIO on $RANKS ranks, $workloads workloads"
printf 'wall time (mpiexec, whole job): %.2f s\n' "$(echo "$end - $start" | bc -l)"
jq -r '"topology build: \(.timings.topology_seconds | . * 1000 | round / 1000) s"' "$out"
jq -r '.timings.policies[] | "policy \(.name): compile \(.compile_seconds | . * 1000 | round / 1000) s, simulate \(.simulate_seconds | . * 1000 | round / 1000) s"' "$out"
sum=0
for f in "$log"/time.*; do
    kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$f")
    echo "rank ${f##*.}: maximum RSS $((kib / 1024)) MiB"
    sum=$((sum + kib))
done
echo "sum of maximum RSS: $((sum / 1024)) MiB, $((sum * 1024 / workloads)) bytes per workload"
