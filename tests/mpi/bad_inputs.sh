# Every invalid input in tests/bad/ is rejected by the real binary with
# exit status 2 and exactly the message in its .expected file, printed
# once even on 3 ranks. tests/bad/*.yaml are scenarios (trustchain
# validate FILE); tests/bad/explicit/*.yaml are explicit topologies
# (trustchain validate --topology FILE), of which valid.yaml must load.
. "$(dirname "$0")/lib.bash"

"$BIN" validate --topology tests/bad/explicit/valid.yaml >/dev/null ||
    fail "tests/bad/explicit/valid.yaml does not load"

cases=0
for input in tests/bad/*.yaml tests/bad/explicit/*.yaml; do
    expected=${input%.yaml}.expected
    [ -f "$expected" ] || continue
    [ "$(cat "$expected")" = OK ] && continue
    flag=
    case "$input" in tests/bad/explicit/*) flag=--topology ;; esac
    cases=$((cases + 1))
    for n in 1 3; do
        set +e
        run_ranks "$n" validate $flag "$input" >"$TMP/out" 2>"$TMP/err"
        status=$?
        set -e
        [ "$status" -eq 2 ] || fail "$input on $n ranks: exit status $status, expected 2: $(cat "$TMP/err")"
        diff -u "$expected" "$TMP/err" >"$TMP/diff" || fail "$input on $n ranks: message differs:
$(cat "$TMP/diff")"
    done
done
[ "$cases" -ge 60 ] || fail "only $cases bad-input cases found in tests/bad/"
echo "$cases bad-input cases rejected as expected at 1 and 3 ranks"
