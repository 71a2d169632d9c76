# trustchain report, checked from the outside:
#  - the CSV tables contain the result's values (jq, and an RFC 4180 parser);
#  - the plots are PNG files;
#  - report.html renders in headless Chromium with every section and image;
#  - attack paths and a plan are shown when the result has them;
#  - without gnuplot or dot the report is written without images, with a
#    warning and exit status 0;
#  - bad inputs exit 2 with a message that names the file.
#
# Needs jq, node, gnuplot and dot. Without chromium the browser checks are
# skipped with a message, except under CI (CI=true), where they must run.
. "$(dirname "$0")/lib.bash"

CHECK="node tests/report/check_report.js"
for tool in jq node gnuplot dot; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (Debian packages: jq nodejs gnuplot-nox graphviz)"
done
BROWSER=1
if ! command -v "${CHROMIUM:-chromium}" >/dev/null; then
    [ "${CI:-}" = true ] && fail "chromium is not installed; CI must install the Debian package chromium"
    echo "SKIP browser checks: chromium is not installed (Debian package chromium)" >&2
    BROWSER=0
fi
browser_flag() { [ "$BROWSER" = 1 ] || echo --no-browser; }

"$BIN" report --help | grep -q '^usage: trustchain report' || fail "the binary has no report command"

# expect_status WANT ARGS...: run the binary, keep stdout and stderr.
expect_status() {
    local want=$1
    shift
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $(cat "$TMP/err")"
}

is_png() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# csv_json FILE: the CSV as a JSON array of objects keyed by the header
# (for files whose fields hold no comma or quote).
csv_json() {
    jq -R -s 'split("\n") | map(select(length > 0) | split(",")) |
              .[0] as $h | .[1:] | map([$h, .] | transpose | map({(.[0]): .[1]}) | add)' "$1"
}

# ---- 1. a run at 2 ranks and its report ----

run_ranks 2 run scenarios/cascade-small.yaml -q -o "$TMP/run.json" >/dev/null
R=$TMP/run.json
D=$TMP/report
expect_status 0 "$BIN" report "$R" -o "$D"
grep -q "open $D/report.html" "$TMP/out" || fail "no summary line: $(cat "$TMP/out")"
[ ! -s "$TMP/err" ] || fail "warnings with gnuplot and dot installed: $(cat "$TMP/err")"

for f in policies.csv growth.csv growth-cumulative.csv breakdown.csv blast-radius.png \
         growth-cumulative.png growth-new.png blast-radius.gp growth.dat report.html \
         report-files.txt; do
    [ -s "$D/$f" ] || fail "$f is missing or empty"
done
for f in blast-radius.png growth-cumulative.png growth-new.png; do
    is_png "$D/$f" || fail "$f is not a PNG file"
done
for f in plan.csv paths.csv plan.png; do
    [ ! -e "$D/$f" ] || fail "$f written for a result without paths or plan"
done
ls "$D" | grep -q '\.tmp\.' && fail "a temporary file was left in the report folder"
[ "$(sort "$D/report-files.txt")" = "$(ls "$D" | sort)" ] || fail "report-files.txt does not list the folder"

# policies.csv: one row per policy, values equal to the JSON's.
n_policies=$(jq '.policies | length' "$R")
[ "$(wc -l <"$D/policies.csv")" -eq $((n_policies + 1)) ] || fail "policies.csv: $(wc -l <"$D/policies.csv") lines for $n_policies policies"
csv_json "$D/policies.csv" >"$TMP/policies.json"
jq -e --slurpfile r "$R" '
    [., $r[0].policies] | transpose | all(
        .[0] as $c | .[1] as $p |
        $c.policy == $p.name and $c.kind == $p.kind and
        ($c.compromised | tonumber) == $p.compromised and
        ($c.fraction | tonumber) == $p.fraction and
        ($c.last_hop | tonumber) == $p.last_hop and
        ($c.flows_total | tonumber) == $p.legitimate_flows.total and
        ($c.flows_broken | tonumber) == $p.legitimate_flows.broken and
        ($c.crown_database_compromised | tonumber) == $p.crown_jewels.database.compromised and
        ($c.crown_billing_total | tonumber) == $p.crown_jewels.billing.total and
        ($c.workloads | tonumber) == $r[0].topology.workloads)' \
    "$TMP/policies.json" >/dev/null || fail "policies.csv differs from the result: $(cat "$D/policies.csv")"

# growth.csv: hop 0 .. the largest last_hop, one column per policy, new
# workloads per hop; the cumulative table ends at each policy's blast radius.
max_hop=$(jq '[.policies[].last_hop] | max' "$R")
[ "$(wc -l <"$D/growth.csv")" -eq $((max_hop + 2)) ] || fail "growth.csv: $(wc -l <"$D/growth.csv") lines, expected $((max_hop + 2))"
csv_json "$D/growth.csv" >"$TMP/growth.json"
jq -e --slurpfile r "$R" '
    . as $rows | $r[0].policies | all(
        . as $p | $rows | to_entries | all(
            (.value.hop | tonumber) == .key and
            (.value[$p.name] | tonumber) == ($p.growth[.key] // 0)))' \
    "$TMP/growth.json" >/dev/null || fail "growth.csv differs from the growth arrays"
csv_json "$D/growth-cumulative.csv" | jq -e --slurpfile r "$R" '
    last as $final | $r[0].policies | all(($final[.name] | tonumber) == .compromised)' >/dev/null ||
    fail "growth-cumulative.csv does not end at each policy's blast radius"

# breakdown.csv: one row per env, tier, crown jewel kind, tenant and step
# count of each policy.
rows=$(jq '[.policies[] | (.by_env, .by_tier, .crown_jewels, .by_tenant, .by_step) |
            select(. != null) | length] | add' "$R")
[ "$(wc -l <"$D/breakdown.csv")" -eq $((rows + 1)) ] || fail "breakdown.csv: $(wc -l <"$D/breakdown.csv") lines, expected $((rows + 1))"

$CHECK "$R" "$D" --images 3 --graphs 0 $(browser_flag) \
    ${REPORT_SCREENSHOT:+--screenshot "$REPORT_SCREENSHOT"} || fail "report.html check failed"

# The same report from every rank count: rank 0 alone writes it.
set +e
run_ranks 2 report "$R" -o "$TMP/report2" >"$TMP/out2" 2>"$TMP/err2"
status=$?
set -e
[ "$status" -eq 0 ] || fail "report on 2 ranks exited $status: $(cat "$TMP/err2")"
[ "$(grep -c '^report:' "$TMP/out2")" -eq 1 ] || fail "report on 2 ranks printed $(grep -c '^report:' "$TMP/out2") summaries"
for f in policies.csv growth.csv breakdown.csv blast-radius.gp; do
    cmp -s "$D/$f" "$TMP/report2/$f" || fail "$f differs between the 1-rank and 2-rank reports"
done

# ---- 2. attack paths, a plan, and names that need escaping ----

# The sections come from other commands. This result carries them in the
# shape that `run --paths N` (analysis/paths_render.c) and `run --plan K`
# write: hops with a readable "text" beside the structured "reason" (the
# second path has none, so its reason object is shown), and a plan with a
# second variant. The third path's target is a foothold itself and the
# fourth was not reached. The third policy gets a name with HTML, CSV and
# gnuplot metacharacters.
NASTY='<script>alert("x")</script>, "quoted" & caf'$'\xc3\xa9'" it's"
jq --arg nasty "$NASTY" '
    def w(id; name; tier; crown): {id: id, name: name, tenant: "t00", env: "prod",
                                   app: "shop", tier: tier, crown: crown, segment: "s1"};
    .policies[2].name = $nasty |
    .timings.policies[2].name = $nasty |
    .policies[0].paths = [
        {target: w(42; "t00-db-1"; "data"; "database"), reached: true, hop: 2, hops: [
            {hop: 0, workload: w(7; "t00-web-1"; "web"; "none"), step: "foothold", from: null,
             reason: {package: null, vector: "popular-package-a"},
             text: "foothold from vector popular-package-a"},
            {hop: 1, workload: w(9; "t00-api-1"; "api"; "none"), step: "network", from: 7,
             reason: {service: "ssh", base_rule: {index: 3, from: "seg-web", to: "seg-api",
                      services: ["ssh"]}, policy_rule: "legacy"},
             text: "ssh exploit, base rule seg-web -> seg-api, legacy policy"},
            {hop: 2, workload: w(42; "t00-db-1"; "data"; "database"), step: "credential",
             from: 9, reason: {principal: {name: "svc-api"}, grant: {gating: "network"}},
             text: "principal svc-api used from t00-api-1 on postgres"}]},
        {target: w(43; "<b>vault</b>"; "secrets"; "secrets"), reached: true, hop: 1, hops: [
            {hop: 0, workload: w(7; "t00-web-1"; "web"; "none"), step: "foothold",
             reason: {vector: "popular-package-a"}},
            {hop: 1, workload: w(43; "<b>vault</b>"; "secrets"; "secrets"), step: "api",
             reason: {caller: 7, callee: 43, service: "vault", trust: "full"}}]},
        {target: w(8; "t00-db-2"; "data"; "database"), reached: true, hop: 0, hops: [
            {hop: 0, workload: w(8; "t00-db-2"; "data"; "database"), step: "foothold",
             text: "foothold: installs compromised package infra-010"}]},
        {target: w(44; "t00-billing-1"; "billing"; "billing"), reached: false}] |
    .policies[1].paths = [] |
    .policies[0].plan = {
        steps: [
            {closure: "remove ssh from base rule seg-web -> seg-api", compromised_after: 2000,
             crown_jewels_after: 250, flows_broken: 0},
            {closure: {kind: "split", description: "split principal svc-api by app"},
             compromised_after: 1500, crown_jewels_after: 120, flows_broken: 0}],
        accepting_broken_flows: {steps: [
            {closure: "revoke grants of svc-api on app db", compromised_after: 900,
             crown_jewels_after: 40, flows_broken: 1234}]}}' "$R" >"$TMP/rich.json"
D=$TMP/rich
expect_status 0 "$BIN" report "$TMP/rich.json" -o "$D"
for f in plan.csv paths.csv plan.png plan.gp paths-1-legacy-open-east-west.dot \
         paths-1-legacy-open-east-west.svg; do
    [ -s "$D/$f" ] || fail "$f is missing for a result with paths and a plan"
done
is_png "$D/plan.png" || fail "plan.png is not a PNG file"
[ "$(ls "$D" | grep -c '^paths-.*\.svg$')" -eq 1 ] || fail "expected one graph: only the first policy has paths"
[ "$(wc -l <"$D/plan.csv")" -eq 4 ] || fail "plan.csv: $(wc -l <"$D/plan.csv") lines, expected 4"
grep -q '^legacy-open-east-west,accepting_broken_flows,1,revoke grants of svc-api on app db,900,40,1234$' "$D/plan.csv" ||
    fail "plan.csv lacks the second plan: $(cat "$D/plan.csv")"
grep -q '^legacy-open-east-west,plan,2,split principal svc-api by app,1500,120,0$' "$D/plan.csv" ||
    fail "plan.csv lacks the closure description: $(cat "$D/plan.csv")"
[ "$(wc -l <"$D/paths.csv")" -eq 7 ] || fail "paths.csv: $(wc -l <"$D/paths.csv") lines, expected 7"
grep -q '^legacy-open-east-west,1,2,42,t00-db-1,t00,prod,shop,data,database,credential,principal svc-api used from t00-api-1 on postgres$' "$D/paths.csv" ||
    fail "paths.csv lacks the credential hop: $(cat "$D/paths.csv")"
grep -q '^legacy-open-east-west,2,1,43,<b>vault</b>,t00,prod,shop,secrets,secrets,api,"caller 7, callee 43, service vault, trust full"$' "$D/paths.csv" ||
    fail "paths.csv does not write out a reason without text: $(cat "$D/paths.csv")"
grep -q '4 crown jewels traced: 2 through a chain of attack steps, 1 is a foothold itself (compromised at hop 0), 1 not reached' "$D/report.html" ||
    fail "the kinds of paths are not counted in report.html"
grep -q 'Footholds that are crown jewels: t00-db-2 (database)' "$D/report.html" ||
    fail "a crown jewel that is a foothold is not named in report.html"
grep -q 'label="Attack paths under legacy-open-east-west: 2 of 2 chains"' "$D/paths-1-legacy-open-east-west.dot" ||
    fail "the graph does not draw exactly the two chains"
grep -q '<b>vault</b>' "$D/paths-1-legacy-open-east-west.dot" || fail "a workload name is missing from the DOT graph"
grep -q '&lt;b&gt;vault&lt;/b&gt;' "$D/report.html" || fail "a workload name is not escaped in report.html"
grep -q '<b>vault' "$D/report.html" && fail "a workload name reached report.html as markup"
grep -qF '"<script>alert(""x"")</script>, ""quoted"" & café it'"'"'s"' "$D/policies.csv" ||
    fail "the policy name is not quoted as RFC 4180 asks in policies.csv: $(sed -n 4p "$D/policies.csv")"
$CHECK "$TMP/rich.json" "$D" --images 4 --graphs 1 $(browser_flag) || fail "report.html check failed with paths and a plan"

# ---- 3. gnuplot and dot missing: the report without images, and a warning ----

# The same folder: the images of the earlier report must go.
expect_status 0 env TC_GNUPLOT=/nonexistent/gnuplot TC_DOT=/nonexistent/dot \
    "$BIN" report "$TMP/rich.json" -o "$D"
grep -q "gnuplot was not found" "$TMP/err" || fail "no warning about gnuplot: $(cat "$TMP/err")"
grep -q "dot was not found" "$TMP/err" || fail "no warning about dot: $(cat "$TMP/err")"
ls "$D" | grep -q '\.png$\|\.svg$' && fail "images of the earlier report were left: $(ls "$D")"
for f in blast-radius.gp growth.dat plan.gp paths-1-legacy-open-east-west.dot; do
    [ -s "$D/$f" ] || fail "$f is missing without gnuplot and dot: scripts must still be written"
done
grep -q 'gnuplot was not found' "$D/report.html" || fail "report.html does not say why it has no plots"
grep -q 'dot was not found' "$D/report.html" || fail "report.html does not say why it has no graphs"
$CHECK "$TMP/rich.json" "$D" --images 0 --graphs 0 $(browser_flag) || fail "report.html check failed without images"

# A plain result in that folder removes the plan and path files again.
expect_status 0 "$BIN" report "$R" -o "$D"
ls "$D" | grep -q '^plan\|^paths' && fail "plan or path files of the earlier report were left: $(ls "$D")"

# ---- 4. invalid inputs: exit 2, and the message names the file ----

expect_status 2 "$BIN" report "$TMP/missing.json" -o "$TMP/e1"
grep -q "missing.json" "$TMP/err" || fail "a missing result file is not named: $(cat "$TMP/err")"
[ ! -e "$TMP/e1" ] || fail "the report folder was created for a missing result"

printf '{"schema_version": 1,\n "policies": [}\n' >"$TMP/broken.json"
expect_status 2 "$BIN" report "$TMP/broken.json" -o "$TMP/e2"
grep -q "broken.json:2:.*invalid JSON" "$TMP/err" || fail "invalid JSON message: $(cat "$TMP/err")"

jq '.schema_version = 2' "$R" >"$TMP/v2.json"
expect_status 2 "$BIN" report "$TMP/v2.json" -o "$TMP/e3"
grep -q "v2.json: schema_version: unsupported schema version 2" "$TMP/err" || fail "schema version message: $(cat "$TMP/err")"

jq '.policies[1].growth = "many"' "$R" >"$TMP/growth.json"
expect_status 2 "$BIN" report "$TMP/growth.json" -o "$TMP/e4"
grep -q "policies\[1\]\.growth: expected an array" "$TMP/err" || fail "bad member message: $(cat "$TMP/err")"

echo "not a folder" >"$TMP/file"
expect_status 2 "$BIN" report "$R" -o "$TMP/file/report"
grep -q "$TMP/file/report" "$TMP/err" || fail "an unusable report folder is not named: $(cat "$TMP/err")"
expect_status 2 "$BIN" report "$R" -o "$TMP/file"
grep -q "not a folder" "$TMP/err" || fail "a file as report folder: $(cat "$TMP/err")"

expect_status 2 "$BIN" report "$R"
grep -q -- "-o DIR" "$TMP/err" || fail "a missing -o is not explained: $(cat "$TMP/err")"
expect_status 2 "$BIN" report "$R" -o "$TMP/e5" --top 0
expect_status 2 "$BIN" report "$R" -o "$TMP/e5" --no-such-option
echo ok

# Everything else passed; without a browser the run counts as skipped.
if [ "$BROWSER" = 0 ]; then
    echo "browser checks skipped: chromium is not installed (Debian package chromium)"
    exit 77
fi
