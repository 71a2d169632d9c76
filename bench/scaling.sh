#!/usr/bin/env bash
# Strong and weak scaling of the Cascade replay.
#
# usage: bench/scaling.sh [RANKS...]        (default: 1 2 4)
# Strong scaling runs scenarios/cascade.yaml (1,000,000 workloads) at each
# rank count; weak scaling runs 250,000 workloads per rank. Writes
# bench/results/scaling.csv (one row per run) and scaling.json, and plots
# bench/results/scaling.png when gnuplot is installed. Rank counts above
# the number of cores oversubscribe them: those rows measure correctness at
# scale, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./trustchain}
RANKS=("${@:-1 2 4}")
[ $# -gt 0 ] || RANKS=(1 2 4)
mkdir -p bench/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv=bench/results/scaling.csv
echo "mode,ranks,workloads,wall_seconds,topology_seconds,simulate_seconds_sum,peak_rss_mib_sum" >"$csv"

# run_one MODE RANKS SCENARIO
run_one() {
    local mode=$1 n=$2 scenario=$3 start end
    start=$(date +%s.%N)
    mpiexec -n "$n" "$BIN" run "$scenario" -q -o "$tmp/r.json" >/dev/null
    end=$(date +%s.%N)
    jq -r --arg mode "$mode" --argjson n "$n" --arg wall "$(echo "$end - $start" | bc -l)" \
        '[$mode, $n, .topology.workloads, ($wall | tonumber | . * 1000 | round / 1000),
          (.timings.topology_seconds | . * 1000 | round / 1000),
          ([.timings.policies[].simulate_seconds] | add | . * 1000 | round / 1000),
          (.run.peak_rss_bytes_sum / 1048576 | round)] | @csv' "$tmp/r.json" >>"$csv"
}

for n in "${RANKS[@]}"; do
    run_one strong "$n" scenarios/cascade.yaml
    sed -e "s/workloads: 1000000/workloads: $((250000 * n))/" -e 's/^name: cascade$/name: cascade-weak/' \
        scenarios/cascade.yaml >"$tmp/weak.yaml"
    run_one weak "$n" "$tmp/weak.yaml"
done
tr -d '"' <"$csv" >"$tmp/c" && mv "$tmp/c" "$csv"
jq -R -s 'split("\n") | map(select(length > 0) | split(",")) | .[0] as $h | .[1:] |
          map([$h, .] | transpose | map({(.[0]): (.[1] | tonumber? // .)}) | add)' "$csv" \
    >bench/results/scaling.json
column -s, -t "$csv"

if command -v gnuplot >/dev/null; then
    grep '^strong,' "$csv" >"$tmp/strong.csv"
    grep '^weak,' "$csv" >"$tmp/weak.csv"
    gnuplot -e "strong='$tmp/strong.csv'; weak='$tmp/weak.csv'; out='bench/results/scaling.png'" \
        bench/scaling.gp
    echo "plot: bench/results/scaling.png"
else
    echo "gnuplot is not installed: no plot (apt-get install gnuplot-nox)" >&2
fi
