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

# Sanitizer settings, used by the SANITIZE=1 build and ignored otherwise;
# mpiexec passes them on to every rank. A sanitizer finding ends the
# process with status 86, which trustchain never uses, so a test that
# expects status 1 or 2 cannot take a report for the failure it expects.
# tests/lsan.supp hides MPICH's own leak from MPI_Init; recording malloc
# stacks with the slow unwinder (fast_unwind_on_malloc=0) is what lets
# that suppression match, at some cost in speed. Options already in the
# environment come last and so take precedence.
SANITIZER_EXIT=86
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:exitcode=$SANITIZER_EXIT${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=$SANITIZER_EXIT${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Unit test binaries that exercise collectives and run at 2 and 3 ranks too.
MPI_UNIT_TESTS="test_topology test_support test_paths test_whatif test_plan test_graph500 test_kronecker test_edgelist test_engine_vs_reference test_attack_steps test_reference test_bfs test_cloud test_policy test_placement test_explicit"

passed=0
failed=0
skipped=0
failed_names=()

# Add the cmocka counts in file $1 to the totals. A binary that printed no
# summary (it crashed) counts as one failure, and so does one that exited
# non-zero with no failed test, as after a sanitizer report at exit.
count_cmocka() {
    local log=$1 name=$2 status=$3 p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if ! grep -q '^\[  PASSED  \]\|^\[  FAILED  \]' "$log"; then
        f=1
    elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "$name: exit status $status after all tests passed"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
    fi
    echo "$name: $p passed, $f failed"
}

# Does log $1 show a failed test or a sanitizer report?
has_failure() {
    grep -q '^\[  FAILED  \]\|^\[  ERROR   \]\|Sanitizer' "$1"
}

# In the sanitizer build, show that tests/lsan.supp hides no leak of the
# project's own: tests/leak_canary.c leaks a block from its own code and an
# hwloc topology, and LeakSanitizer must report both, and not MPI_Init's.
check_leak_canary() {
    ldd "$BIN" 2>/dev/null | grep -q libasan || return 0
    local canary=$BUILD/tests/leak_canary log status problem=
    log=$(mktemp)
    mkdir -p "$BUILD/tests"
    if ! mpicc -std=c11 -O0 -g -fsanitize=address -fno-omit-frame-pointer \
        -o "$canary" tests/leak_canary.c $(pkg-config --cflags --libs hwloc) >"$log" 2>&1; then
        problem="could not build tests/leak_canary.c"
    else
        "$canary" >"$log" 2>&1
        status=$?
        if [ "$status" -ne "$SANITIZER_EXIT" ]; then
            problem="exit status $status, expected $SANITIZER_EXIT"
        elif ! grep -q 'in canary_leak_block' "$log"; then
            problem="the leaked block was not reported"
        elif ! grep -q 'in canary_leak_topology' "$log"; then
            problem="the leaked hwloc topology was not reported"
        elif grep -q 'MPI_Init' "$log"; then
            problem="MPICH's leak from MPI_Init was reported: tests/lsan.supp did not apply"
        fi
    fi
    if [ -z "$problem" ]; then
        passed=$((passed + 1))
        echo "leak_canary: passed (own leaks reported, MPI_Init's suppressed)"
    else
        failed=$((failed + 1))
        failed_names+=(leak_canary)
        echo "leak_canary: FAILED: $problem"
        sed 's/^/    /' "$log"
    fi
    rm -f "$log"
}

run_unit() {
    local t name log
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        log=$(mktemp)
        "$t" >"$log" 2>&1
        count_cmocka "$log" "$name" $?
        [ "${VERBOSE:-0}" = 1 ] || has_failure "$log" && cat "$log"
        rm -f "$log"
        case " $MPI_UNIT_TESTS " in
        *" $name "*)
            for n in 2 3; do
                log=$(mktemp)
                timeout 600 "$MPIEXEC" -n "$n" "$t" >"$log" 2>&1
                count_cmocka "$log" "$name (mpiexec -n $n)" $?
                has_failure "$log" && cat "$log"
                rm -f "$log"
            done
            ;;
        esac
    done
}

# Each script is one test: exit 0 passes, 77 skips (it prints why, for
# example a missing browser outside CI), anything else fails.
run_mpi() {
    local s name log status
    for s in tests/mpi/*.sh; do
        name=$(basename "$s" .sh)
        log=$(mktemp)
        timeout 900 bash "$s" >"$log" 2>&1
        status=$?
        if [ "$status" -eq 0 ]; then
            passed=$((passed + 1))
            echo "$name: passed"
        elif [ "$status" -eq 77 ]; then
            skipped=$((skipped + 1))
            echo "$name: skipped: $(tail -n 1 "$log")"
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
unit) check_leak_canary; run_unit ;;
mpi) run_mpi ;;
*) check_leak_canary; run_unit; run_mpi ;;
esac

if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
