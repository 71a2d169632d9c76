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
