#!/usr/bin/env bash
# Graph500 BFS runs of `trustchain bench bfs` over a range of scales and rank
# counts, summarised in one CSV row per run, with each run's JSON beside it.
#
# usage: bench/bfs.sh
# environment (all optional):
#   BIN           trustchain binary                      (./trustchain)
#   SCALES        Kronecker scales                       ("16 17 18 19 20 21 22")
#   RANKS         MPI rank counts                        ("1 2")
#   ROOTS         search keys per run                    (64)
#   OUT           results folder                         (bench/results)
#   MPIEXEC       MPI launcher                           (mpiexec)
#   GRAPH500_BIN  a Graph500 reference MPI binary (graph500_reference_bfs),
#                 built elsewhere: run at the same scales and rank counts
#   GAPBS_BFS     a GAP Benchmark Suite `bfs` binary, built elsewhere: run
#                 with OMP_NUM_THREADS set to each rank count
#
# Writes OUT/bfs-STAMP.csv and OUT/bfs-STAMP/ (the JSON of every trustchain
# run and the raw output of every run). TEPS of the GAP runs are
# edgefactor * 2^scale input edges over each trial's time: GAP prints times
# only, and nearly every input edge of a Graph500 graph lies in the searched
# component, so the figures compare within about one percent.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-./trustchain}
SCALES=${SCALES:-"16 17 18 19 20 21 22"}
RANKS=${RANKS:-"1 2"}
ROOTS=${ROOTS:-64}
OUT=${OUT:-bench/results}
MPIEXEC=${MPIEXEC:-mpiexec}
EDGEFACTOR=16

if [ ! -x "$BIN" ]; then
    echo "bfs.sh: $BIN not found or not executable; run make first" >&2
    exit 2
fi
stamp=$(date +%Y%m%d-%H%M%S)
runs="$OUT/bfs-$stamp"
csv="$OUT/bfs-$stamp.csv"
mkdir -p "$runs"

echo "implementation,scale,ranks,nbfs,construction_s,bfs_median_s,teps_min,teps_median,teps_harmonic_mean,validation,peak_rss_max_rank_bytes,bytes_per_edge,load_average" >"$csv"

# Value of key $2 in the "key: value" output $1. Graph500 reference lines
# start with "bfs  " instead of "bfs_", may mark a value with "!", and give
# some times with an "s" suffix.
value() {
    awk -v key="$2" '{
        line = $0; sub(/^bfs +/, "bfs_", line)
        split(line, kv, ":")
        if (kv[1] == key) {
            v = kv[2]; gsub(/[ !]/, "", v)
            if (v ~ /^[0-9.eE+-]+s$/) sub(/s$/, "", v)
            print v; exit
        }
    }' "$1"
}

# The 1-minute load average before a run: on a shared machine, a run
# that started above the core count was slowed by other jobs.
load() {
    cut -d' ' -f1 /proc/loadavg
}

machine() {
    echo "host: $(uname -n), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
machine | tee "$runs/machine.txt"

for scale in $SCALES; do
    for ranks in $RANKS; do
        log="$runs/trustchain-s$scale-n$ranks.txt"
        json="$runs/trustchain-s$scale-n$ranks.json"
        echo "trustchain scale $scale, $ranks rank(s)" >&2
        before=$(load)
        "$MPIEXEC" -n "$ranks" "$BIN" bench bfs --scale "$scale" --edgefactor "$EDGEFACTOR" \
            --roots "$ROOTS" --json "$json" --quiet >"$log"
        echo "trustchain,$scale,$ranks,$(value "$log" NBFS),$(value "$log" construction_time),$(value "$log" bfs_median_time),$(value "$log" bfs_min_TEPS),$(value "$log" bfs_median_TEPS),$(value "$log" bfs_harmonic_mean_TEPS),$(value "$log" bfs_validation),$(value "$log" peak_rss_max_rank_bytes),$(value "$log" bytes_per_edge),$before" >>"$csv"

        if [ -n "${GRAPH500_BIN:-}" ]; then
            log="$runs/graph500-s$scale-n$ranks.txt"
            echo "graph500 reference scale $scale, $ranks rank(s)" >&2
            before=$(load)
            "$MPIEXEC" -n "$ranks" "$GRAPH500_BIN" "$scale" "$EDGEFACTOR" >"$log" 2>&1
            echo "graph500-reference,$scale,$ranks,$(value "$log" NBFS),$(value "$log" construction_time),$(value "$log" bfs_median_time),$(value "$log" bfs_min_TEPS),$(value "$log" bfs_median_TEPS),$(value "$log" bfs_harmonic_mean_TEPS),,,,$before" >>"$csv"
        fi

        if [ -n "${GAPBS_BFS:-}" ]; then
            log="$runs/gapbs-s$scale-t$ranks.txt"
            echo "gapbs bfs scale $scale, $ranks thread(s)" >&2
            before=$(load)
            OMP_NUM_THREADS=$ranks "$GAPBS_BFS" -g "$scale" -k "$EDGEFACTOR" -n "$ROOTS" >"$log" 2>&1
            build=$(awk '/^Build Time:/ { print $3 }' "$log")
            awk '/^Trial Time:/ { print $3 }' "$log" | sort -g |
                awk -v edges="$((EDGEFACTOR << scale))" -v scale="$scale" -v ranks="$ranks" \
                    -v build="$build" -v load="$before" '
                { t[++n] = $1; inverse += $1 / edges }
                END {
                    if (n == 0) exit 1
                    median = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
                    printf "gapbs,%s,%s,%d,%s,%g,%g,%g,%g,,,,%s\n", scale, ranks, n, build,
                        median, edges / t[n], edges / median, n / inverse, load
                }' >>"$csv"
        fi
    done
done

echo "wrote $csv" >&2
column -s, -t <"$csv"
