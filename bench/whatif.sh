#!/usr/bin/env bash
# What-if ranking of candidate closures: the 64-lane engine against applying
# each candidate and re-simulating the plain way, on one scenario.
#
# usage: bench/whatif.sh [SCENARIO] [RANKS]
#   SCENARIO  default scenarios/cascade.yaml
#   RANKS     default 2
# environment (all optional):
#   BIN         trustchain binary                          (./trustchain)
#   MPIEXEC     MPI launcher                               (mpiexec)
#   CANDIDATES  candidates ranked per policy               (256)
#   PLAIN       candidates re-simulated the plain way      (8)
#   PLAN        steps of the greedy plans, 0 for none      (5)
#   OUT         results folder                             (bench/results)
#
# Writes OUT/whatif-<scenario>-<ranks>r.txt (the benchmark's "key: value"
# output) and, when PLAN > 0, OUT/whatif-<scenario>-<ranks>r-plans.json (the
# plan document of each policy), and prints one row per policy: candidates ranked, seconds per
# candidate in lanes, seconds per candidate the plain way (whole path and
# tc_sim_run alone) and both ratios. A sampled plain run that disagrees
# with its lane makes the benchmark exit with status 1.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${1:-scenarios/cascade.yaml}
RANKS=${2:-2}
BIN=${BIN:-./trustchain}
MPIEXEC=${MPIEXEC:-mpiexec}
CANDIDATES=${CANDIDATES:-256}
PLAIN=${PLAIN:-8}
PLAN=${PLAN:-5}
OUT=${OUT:-bench/results}

if [ ! -x "$BIN" ]; then
    echo "whatif.sh: $BIN not found or not executable; run make first" >&2
    exit 2
fi
if ! "$BIN" bench whatif --help >/dev/null 2>&1; then
    echo "whatif.sh: $BIN does not run 'bench whatif'; rebuild it with make" >&2
    exit 2
fi
name=$(basename "$SCENARIO" .yaml)
mkdir -p "$OUT"
out="$OUT/whatif-$name-${RANKS}r.txt"
plans=()
if [ "$PLAN" -gt 0 ]; then
    plans=(--json "$OUT/whatif-$name-${RANKS}r-plans.json")
fi

start=$(date +%s.%N)
"$MPIEXEC" -n "$RANKS" "$BIN" bench whatif "$SCENARIO" --candidates "$CANDIDATES" \
    --plain "$PLAIN" --plan "$PLAN" "${plans[@]}" >"$out"
end=$(date +%s.%N)

echo "scenario: $SCENARIO on $RANKS ranks; output: $out"
printf 'wall time (mpiexec, whole job): %.1f s\n' "$(echo "$end - $start" | bc -l)"
awk '
    function flush() {
        if (policy != "")
            printf "%-28s %7s %11s %11s %11s %9s %9s %7s\n", policy, ranked, lane, plain,
                   simulate, ratio, ratio_sim, agree
    }
    BEGIN {
        printf "%-28s %7s %11s %11s %11s %9s %9s %7s\n", "policy", "ranked", "lane s/c",
               "plain s/c", "sim s/c", "x plain", "x sim", "agree"
    }
    /^policy: / { flush(); policy = $2 }
    /^candidates_ranked: / { ranked = $2 }
    /^lane_seconds_per_candidate: / { lane = $2 }
    /^plain_seconds_per_candidate: / { plain = $2 }
    /^plain_simulate_seconds_per_candidate: / { simulate = $2 }
    /^speedup_over_plain: / { ratio = $2 }
    /^speedup_over_simulate_only: / { ratio_sim = $2 }
    /^plain_agrees_with_lanes: / { agree = $2 }
    END { flush() }
' "$out"
