# The generator parameter table in scenarios/README.md is the one the
# program prints, so the reference cannot drift from the code.
. "$(dirname "$0")/lib.bash"

sed -n '/<!-- cloud-params:begin -->/,/<!-- cloud-params:end -->/p' scenarios/README.md |
    sed '1d;$d' >"$TMP/readme"
"$BIN" params cloud >"$TMP/program"
[ -s "$TMP/program" ] || fail "trustchain params cloud printed nothing"
diff -u "$TMP/readme" "$TMP/program" || fail "scenarios/README.md differs from 'trustchain params cloud'"

# Every scenario shipped in scenarios/ validates.
for f in scenarios/*.yaml; do
    "$BIN" validate "$f" >/dev/null || fail "$f does not validate"
done
echo "parameter table in sync; $(ls scenarios/*.yaml | wc -l) scenarios validate"
