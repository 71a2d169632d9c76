#!/usr/bin/env bash
# Run the test suite: cmocka unit tests (some also at 2 and 3 ranks), then
# the integration scripts in tests/mpi/, which drive the real binary under
# mpiexec. Prints one line per test binary or script and, last,
# "N passed, N failed" counting individual cmocka tests and scripts.
#
# usage: tests/run.sh [unit|mpi]      (both when no argument)
# environment: BUILD (object folder), BIN (the trustchain binary)

set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-./trustchain}
export BIN
MPIEXEC=${MPIEXEC:-mpiexec}
export MPIEXEC
# Unit test binaries that exercise collectives and run at 2 and 3 ranks too.
MPI_UNIT_TESTS="test_topology test_support test_engine_vs_reference test_attack_steps test_reference test_bfs test_cloud test_policy test_placement test_explicit"

passed=0
failed=0
failed_names=()

# Add the cmocka counts in file $1 to the totals; a binary that printed no
# summary (crashed) counts as one failure.
count_cmocka() {
    local log=$1 name=$2 p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if ! grep -q '^\[  PASSED  \]\|^\[  FAILED  \]' "$log"; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
    fi
    echo "$name: $p passed, $f failed"
}

run_unit() {
    local t name log
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        log=$(mktemp)
        "$t" >"$log" 2>&1
        count_cmocka "$log" "$name"
        [ "${VERBOSE:-0}" = 1 ] || grep -q '^\[  FAILED  \]\|^\[  ERROR   \]' "$log" && cat "$log"
        rm -f "$log"
        case " $MPI_UNIT_TESTS " in
        *" $name "*)
            for n in 2 3; do
                log=$(mktemp)
                timeout 600 "$MPIEXEC" -n "$n" "$t" >"$log" 2>&1
                count_cmocka "$log" "$name (mpiexec -n $n)"
                grep -q '^\[  FAILED  \]\|^\[  ERROR   \]' "$log" && cat "$log"
                rm -f "$log"
            done
            ;;
        esac
    done
}

run_mpi() {
    local s name log
    for s in tests/mpi/*.sh; do
        name=$(basename "$s" .sh)
        log=$(mktemp)
        if timeout 900 bash "$s" >"$log" 2>&1; then
            passed=$((passed + 1))
            echo "$name: passed"
        else
            failed=$((failed + 1))
            failed_names+=("$name")
            echo "$name: FAILED"
            sed 's/^/    /' "$log"
        fi
        rm -f "$log"
    done
}

case "${1:-all}" in
unit) run_unit ;;
mpi) run_mpi ;;
*) run_unit; run_mpi ;;
esac

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
