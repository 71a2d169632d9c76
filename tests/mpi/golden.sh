# Hand-checked results: the ten-workload shop of
# scenarios/topologies/tiny.yaml entered from the internet. The figures
# below come from the hop-by-hop reasoning in that file's comments, not
# from a run, and must hold at 1, 2 and 3 ranks.
. "$(dirname "$0")/lib.bash"

# expect FILE POLICY JQ-FILTER VALUE
expect() {
    local got
    got=$(jq -c --arg p "$2" ".policies[] | select(.name == \$p) | $3" "$1")
    [ "$got" = "$4" ] || fail "$2: $3 is $got, expected $4"
}

for n in 1 2 3; do
    run_ranks "$n" run tests/golden/tiny-internet.yaml -q -o "$TMP/g.json" >/dev/null
    f=$TMP/g.json
    [ "$(jq '.footholds.total' "$f")" = 1 ] || fail "one foothold expected (lb-1)"

    # legacy: lb-1 at 0; api-1 and web-1 at 1; cache-1, billing-1, db-1 at 2.
    expect "$f" legacy '.compromised' 6
    expect "$f" legacy '.growth' '[1,2,3]'
    expect "$f" legacy '.first_crown_jewel_hop' 2
    expect "$f" legacy '.by_step' '{"foothold":1,"network":3,"api":1,"credential":1,"supply_chain":0}'
    expect "$f" legacy '.crown_jewels.database.compromised' 1
    expect "$f" legacy '.crown_jewels.secrets.compromised' 0

    # segmentation: web-1 at 1, api-1 at 2, billing-1 and db-1 at 3; the
    # cache is never reached.
    expect "$f" tier-segmentation '.compromised' 5
    expect "$f" tier-segmentation '.growth' '[1,1,1,2]'
    expect "$f" tier-segmentation '.first_crown_jewel_hop' 3
    expect "$f" tier-segmentation '.by_tier.cache.compromised' 0

    # Six API edges and three network-gated grants in use; the
    # segmentation keeps every one of them.
    expect "$f" legacy '.legitimate_flows' '{"total":9,"broken":0,"denied_by_base":0}'
    expect "$f" tier-segmentation '.legitimate_flows.broken' 0
done
echo "tiny shop results match the hand-worked hops at 1, 2 and 3 ranks"
