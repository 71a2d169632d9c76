# Command-line behaviour: help, version, usage errors (exit 2), runtime
# errors, and a result folder that is checked before any simulation.
. "$(dirname "$0")/lib.bash"

"$BIN" --help | grep -q '^usage: trustchain COMMAND' || fail "--help prints no usage"
"$BIN" --version | grep -Eq '^trustchain [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

expect_status() {
    local want=$1
    shift
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $(cat "$TMP/err")"
}

expect_status 2 "$BIN"
expect_status 2 "$BIN" frobnicate
expect_status 2 "$BIN" run
expect_status 2 "$BIN" run a.yaml b.yaml
expect_status 2 "$BIN" run --no-such-option scenarios/cascade-small.yaml
expect_status 2 "$BIN" validate "$TMP/missing.yaml"
grep -q "missing.yaml" "$TMP/err" || fail "a missing scenario is not named in the error"

# An output folder that does not exist is reported before the topology is
# built: no progress line about policies may appear.
expect_status 2 "$BIN" run scenarios/cascade-small.yaml -o "$TMP/no/such/dir/r.json"
grep -q "does not exist" "$TMP/err" || fail "missing output folder not reported"
grep -q "policy" "$TMP/err" && fail "simulation ran before the output folder was checked"

# Errors are printed once, by rank 0, not once per rank.
set +e
run_ranks 3 validate "$TMP/missing.yaml" >/dev/null 2>"$TMP/err3"
status=$?
set -e
[ "$status" -eq 2 ] || fail "validate on 3 ranks exited $status"
[ "$(grep -c 'trustchain:' "$TMP/err3")" -eq 1 ] || fail "error printed $(grep -c trustchain: "$TMP/err3") times on 3 ranks"

# Refusal by memory estimate, exit 2, before any allocation of the topology.
set +e
TC_MEMORY_LIMIT=1M "$BIN" run scenarios/cascade-small.yaml -q >/dev/null 2>"$TMP/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "memory refusal exited $status"
grep -q "needs an estimated" "$TMP/err" || fail "memory refusal message: $(cat "$TMP/err")"

# A valid scenario validates, and the single-rank run needs no mpiexec.
"$BIN" validate scenarios/cascade-small.yaml | grep -q "valid scenario" || fail "validate"
"$BIN" run scenarios/tiny-explicit.yaml -q -o "$TMP/tiny.json" >/dev/null
jq -e '.schema_version == 1' "$TMP/tiny.json" >/dev/null || fail "schema_version"
ls "$TMP" | grep -q '\.tmp\.' && fail "a temporary result file was left behind"
echo ok
