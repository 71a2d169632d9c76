# The same scenario and seed give byte-identical results (timings and run
# information aside) on 1, 2 and 3 ranks.
. "$(dirname "$0")/lib.bash"

for scenario in scenarios/cascade-small.yaml scenarios/tiny-explicit.yaml; do
    for n in 1 2 3; do
        run_ranks "$n" run "$scenario" -q -o "$TMP/r$n.json" >/dev/null
        results_only "$TMP/r$n.json" >"$TMP/r$n.results"
    done
    cmp "$TMP/r1.results" "$TMP/r2.results" || fail "$scenario: 1 and 2 ranks differ"
    cmp "$TMP/r1.results" "$TMP/r3.results" || fail "$scenario: 1 and 3 ranks differ"
    [ "$(jq '.policies | length' "$TMP/r1.json")" -ge 1 ] || fail "$scenario: no policy results"
    echo "$scenario: identical at 1, 2 and 3 ranks"
done

# The partition scheme changes which rank owns what, never the results.
run_ranks 3 run scenarios/cascade-small.yaml -q --partition block -o "$TMP/block.json" >/dev/null
run_ranks 3 run scenarios/cascade-small.yaml -q --partition locality -o "$TMP/locality.json" >/dev/null
cmp <(results_only "$TMP/block.json") <(results_only "$TMP/locality.json") ||
    fail "block and locality partitions give different results"
[ "$(jq -r .run.partition.scheme "$TMP/locality.json")" = locality ] || fail "partition scheme not reported"
echo "block and locality partitions give identical results at 3 ranks"
