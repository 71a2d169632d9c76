# Injected faults (TC_FAULT=RANK:PHASE, sim/fault.h) at every phase on 2
# and 3 ranks: each run exits with status 1 within FAULT_SECONDS, rank 0
# prints the injected fault once, naming the lowest failing rank, and the
# result folder stays empty (no result, no temporary file). An older result
# at the same path is left byte for byte. A run that does not end within
# HANG_SECONDS is taken as a hang: the stacks of its ranks are printed
# (gdb) before it is killed, so the report shows where each rank waits.
. "$(dirname "$0")/lib.bash"

FAULT_SECONDS=${FAULT_SECONDS:-20}
HANG_SECONDS=${HANG_SECONDS:-60}
PHASES=${PHASES:-load generate build simulate output}

# descendants PID: the process ids below PID, children first.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1"); do
        echo "$child"
        descendants "$child"
    done
}

# print_stacks PID: the stack of every thread of each trustchain process
# started under PID (mpiexec, its proxy, the ranks).
print_stacks() {
    local pid
    for pid in $(descendants "$1"); do
        case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
        trustchain*)
            echo "--- stacks of rank process $pid ---" >&2
            gdb -batch -p "$pid" -ex 'thread apply all bt' 2>&1 | grep -E '^(#|Thread)' >&2 || true
            ;;
        esac
    done
}

# run_fault N SPEC OUTPUT ARGS...: run the binary on N ranks with
# TC_FAULT=SPEC; sets STATUS (124 on a hang) and SECONDS_TAKEN, and leaves
# stderr in $TMP/err.
run_fault() {
    local n=$1 spec=$2 output=$3
    shift 3
    local start end pid waited=0
    start=$(date +%s%N)
    TC_FAULT=$spec "$MPIEXEC" -n "$n" "$BIN" "$@" -q -o "$output" >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((HANG_SECONDS * 10)) ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "TC_FAULT=$spec on $n ranks did not end within $HANG_SECONDS s" >&2
        print_stacks "$pid"
        local victims
        victims=$(descendants "$pid")
        kill -KILL $victims "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        STATUS=124
    else
        set +e
        wait "$pid"
        STATUS=$?
        set -e
    fi
    end=$(date +%s%N)
    SECONDS_TAKEN=$(( (end - start) / 1000000 ))
}

# check_fault N SPEC PHASE RANK SCENARIO: one faulty run and its checks;
# RANK is the rank the message must name (the lowest failing one).
check_fault() {
    local n=$1 spec=$2 phase=$3 rank=$4 scenario=$5
    local dir=$TMP/out-$n-${spec//[^a-z0-9]/_}
    mkdir -p "$dir"
    run_fault "$n" "$spec" "$dir/result.json" run "$scenario"
    local what="$scenario, TC_FAULT=$spec on $n ranks"

    [ "$STATUS" -ne 124 ] || fail "$what: hang (stacks above)"
    ! grep -q 'Sanitizer' "$TMP/err" || fail "$what: sanitizer report: $(cat "$TMP/err")"
    [ "$STATUS" -eq 1 ] || fail "$what: exit status $STATUS, expected 1: $(cat "$TMP/err")"
    [ "$SECONDS_TAKEN" -le $((FAULT_SECONDS * 1000)) ] ||
        fail "$what: took $SECONDS_TAKEN ms, more than $FAULT_SECONDS s"
    # tc_error_print names the rank of a runtime error unless it is rank 0.
    local prefix="trustchain: rank $rank: "
    [ "$rank" -ne 0 ] || prefix="trustchain: "
    local expected="${prefix}injected fault at $phase (TC_FAULT=$spec)"
    [ "$(grep -c 'injected fault' "$TMP/err")" -eq 1 ] ||
        fail "$what: the fault is not printed exactly once: $(cat "$TMP/err")"
    grep -qxF "$expected" "$TMP/err" || fail "$what: expected '$expected', got: $(cat "$TMP/err")"
    [ "$(grep -v '^trustchain: placement: ' "$TMP/err" | grep -c .)" -eq 1 ] ||
        fail "$what: more than the fault on stderr: $(cat "$TMP/err")"
    [ -z "$(ls -A "$dir")" ] || fail "$what: left files behind: $(ls -A "$dir")"
    rm -rf "$dir"
    slowest=$((SECONDS_TAKEN > slowest ? SECONDS_TAKEN : slowest))
    runs=$((runs + 1))
}

runs=0
slowest=0
for phase in $PHASES; do
    # Rank 1 of 2, then ranks 1, 2 and both of 3: the message names rank 1
    # when both fail, as the lowest failing rank's record is the one agreed.
    for scenario in scenarios/cascade-small.yaml scenarios/tiny-explicit.yaml; do
        check_fault 2 "1:$phase" "$phase" 1 "$scenario"
        check_fault 3 "1:$phase" "$phase" 1 "$scenario"
        check_fault 3 "2:$phase" "$phase" 2 "$scenario"
        check_fault 3 "1:$phase,2:$phase" "$phase" 1 "$scenario"
    done
    # Rank 0, which writes the result, and every rank at once.
    check_fault 3 "0:$phase" "$phase" 0 scenarios/cascade-small.yaml
    check_fault 2 "*:$phase" "$phase" 0 scenarios/cascade-small.yaml
done

# A fault at output, after every policy ran, must leave an older result at
# the same path untouched.
mkdir -p "$TMP/keep"
printf '{"schema_version": 1, "old": true}\n' >"$TMP/keep/result.json"
cp "$TMP/keep/result.json" "$TMP/old.json"
run_fault 3 "1:output" "$TMP/keep/result.json" run scenarios/tiny-explicit.yaml
[ "$STATUS" -eq 1 ] || fail "fault at output over an older result: exit status $STATUS"
cmp -s "$TMP/old.json" "$TMP/keep/result.json" || fail "a fault at output changed the older result"
[ "$(ls -A "$TMP/keep")" = result.json ] || fail "a fault at output left $(ls -A "$TMP/keep")"

# A fault in a phase that is not named changes nothing.
run_fault 2 "1:nosuchphase" "$TMP/keep/result.json" run scenarios/tiny-explicit.yaml
[ "$STATUS" -eq 0 ] || fail "TC_FAULT naming no phase made the run fail: $(cat "$TMP/err")"
jq -e '.schema_version == 1 and (.policies | length) == 3' "$TMP/keep/result.json" >/dev/null ||
    fail "the run with an unused TC_FAULT wrote no complete result"

echo "$runs faulty runs exited with status 1, the slowest in $slowest ms; none wrote a file"
