# The small integration runs under Valgrind's memcheck at 1 rank: a tiny
# explicit scenario, the golden case, the cloud generator on 600 workloads
# (cascade-small scaled down), and a few invalid inputs. Any memory error
# or definite leak outside the MPICH/UCX/hwloc internals listed in
# tests/valgrind.supp fails the test, as does a result that differs from
# the one the same run gives without Valgrind.
. "$(dirname "$0")/lib.bash"

VALGRIND_EXIT=86

if ldd "$BIN" 2>/dev/null | grep -q libasan; then
    echo "skipped: $BIN is built with AddressSanitizer, which Valgrind cannot run"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    [ "${CI:-}" != true ] || fail "valgrind is not installed"
    echo "skipped: valgrind is not installed (apt-get install valgrind)"
    exit 0
fi

# memcheck NAME EXPECTED-STATUS ARGS...: run the binary under Valgrind; the
# report goes to $TMP/NAME.valgrind and is printed when the run fails.
memcheck() {
    local name=$1 want=$2
    shift 2
    set +e
    valgrind --quiet --error-exitcode=$VALGRIND_EXIT --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --num-callers=30 --suppressions=tests/valgrind.supp \
        --log-file="$TMP/$name.valgrind" "$BIN" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    local status=$?
    set -e
    if [ "$status" -eq "$VALGRIND_EXIT" ]; then
        cat "$TMP/$name.valgrind" >&2
        fail "$name: Valgrind found errors (report above)"
    fi
    [ "$status" -eq "$want" ] ||
        fail "$name: exit status $status, expected $want: $(cat "$TMP/$name.err")"
    runs=$((runs + 1))
}

# same_results NAME SCENARIO: the result of NAME under Valgrind equals a
# plain run's, timings and run information aside.
same_results() {
    "$BIN" run "$2" -q -o "$TMP/$1.plain.json" >/dev/null
    cmp -s <(results_only "$TMP/$1.json") <(results_only "$TMP/$1.plain.json") ||
        fail "$1: the result under Valgrind differs from the plain run's"
}

runs=0
memcheck tiny-explicit 0 run scenarios/tiny-explicit.yaml -q -o "$TMP/tiny-explicit.json"
same_results tiny-explicit scenarios/tiny-explicit.yaml

memcheck golden 0 run tests/golden/tiny-internet.yaml -q -o "$TMP/golden.json"
same_results golden tests/golden/tiny-internet.yaml

# cascade-small with a tenth of its workloads: every generator stage and
# all three policy kinds, at a size Valgrind runs in seconds.
sed 's/^    workloads: 6000$/    workloads: 600/' scenarios/cascade-small.yaml >"$TMP/cascade-600.yaml"
grep -q '^    workloads: 600$' "$TMP/cascade-600.yaml" ||
    fail "scenarios/cascade-small.yaml no longer sets workloads: 6000; update this test"
memcheck cascade-600 0 run "$TMP/cascade-600.yaml" -q -o "$TMP/cascade-600.json"
same_results cascade-600 "$TMP/cascade-600.yaml"

# Invalid inputs, which leave the loaders through their error paths; the
# message must still be the expected one.
for case in alias-bomb deep-nesting invalid-utf8 duplicate-key selector-syntax \
    undefined-smartgroup cut-off two-documents; do
    memcheck "bad-$case" 2 validate "tests/bad/$case.yaml"
    # hwloc prints three lines of its own under Valgrind (its x86 backend
    # turns itself off); the rest must be the expected message.
    grep -v '^hwloc x86 backend cannot work under Valgrind\|^May be reenabled by dumping\|^and reloading them under Valgrind' \
        "$TMP/bad-$case.err" >"$TMP/bad-$case.message" || true
    diff -u "tests/bad/$case.expected" "$TMP/bad-$case.message" ||
        fail "tests/bad/$case.yaml: message differs under Valgrind"
done
for case in tests/bad/explicit/*.yaml; do
    [ "$(cat "${case%.yaml}.expected")" != OK ] || continue
    name=explicit-$(basename "$case" .yaml)
    memcheck "$name" 2 validate --topology "$case"
    explicit_cases=$((${explicit_cases:-0} + 1))
    [ "$explicit_cases" -lt 4 ] || break
done

# The suppressions hide no leak of a program's own: tests/leak_canary.c
# leaks a block and an hwloc topology after MPI_Init, and both are reported.
mpicc -std=c11 -O0 -g -o "$TMP/leak_canary" tests/leak_canary.c $(pkg-config --cflags --libs hwloc)
set +e
valgrind --quiet --error-exitcode=$VALGRIND_EXIT --leak-check=full --num-callers=30 \
    --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp \
    --log-file="$TMP/canary.valgrind" "$TMP/leak_canary" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq "$VALGRIND_EXIT" ] || fail "leak canary: exit status $status, expected $VALGRIND_EXIT"
grep -q 'canary_leak_block' "$TMP/canary.valgrind" || fail "leak canary: the leaked block was not reported"
grep -q 'canary_leak_topology' "$TMP/canary.valgrind" ||
    fail "leak canary: the leaked hwloc topology was not reported"

echo "$runs runs under Valgrind: no memory error, no definite leak; the leak canary was caught"
