# The result file is replaced atomically. Runs that write over an older
# result are killed (SIGKILL and SIGTERM) at seeded random moments, some of
# them while the temporary file exists. After each kill the path contains
# either the file it contained before the run or a complete new result,
# never a partial one. Then: a result path in a missing folder or in a folder
# that cannot be written is rejected with exit status 2 before the
# topology is built.
. "$(dirname "$0")/lib.bash"

KILLS=${KILLS:-24}
RANDOM=${KILL_SEED:-20260311}
scenario=scenarios/tiny-explicit.yaml
dir=$TMP/results
path=$dir/result.json
mkdir -p "$dir"

# The complete result every run writes, timings aside.
"$BIN" run "$scenario" -q -o "$TMP/reference.json" >/dev/null
results_only "$TMP/reference.json" >"$TMP/reference.results"

# The older result that the first killed run writes over.
cp "$TMP/reference.json" "$path"

# Milliseconds one single-rank run takes here, so that the random delays
# cover a whole run whatever the machine's speed.
start=$(date +%s%N)
"$BIN" run "$scenario" -q -o "$TMP/timed.json" >/dev/null
run_ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))

# rank_zero_pid PID: the process id of rank 0 among the processes below
# PID (mpiexec and its proxy), found through PMI_RANK in its environment.
rank_zero_pid() {
    local child
    for child in $(ps -o pid= --ppid "$1"); do
        if tr '\0' '\n' <"/proc/$child/environ" 2>/dev/null | grep -qx 'PMI_RANK=0'; then
            echo "$child"
            return
        fi
        rank_zero_pid "$child"
    done
}

# check_path WHAT: fail unless the path contains the file it contained
# before the run or a complete new result, and count which of the two.
check_path() {
    [ -f "$path" ] || fail "$1: $path is missing"
    if cmp -s "$path" "$TMP/before.json"; then
        kept=$((kept + 1))
        return
    fi
    jq -e '.schema_version == 1' "$path" >/dev/null 2>&1 ||
        fail "$1: $path is neither the older file nor a valid result: $(head -c 300 "$path")"
    results_only "$path" | cmp -s - "$TMP/reference.results" ||
        fail "$1: $path is valid JSON but not the complete result"
    replaced=$((replaced + 1))
}

kept=0
replaced=0
in_write=0   # kills that left a temporary file: they hit between open and rename
for ((i = 0; i < KILLS; i++)); do
    signal=KILL
    [ $((i % 2)) -eq 0 ] || signal=TERM
    cp "$path" "$TMP/before.json"
    rm -f "$dir"/*.tmp.*

    # Every fourth run is on two ranks, where rank 0 (the writer) is hit.
    ranks=1
    [ $((i % 4)) -ne 3 ] || ranks=2
    if [ "$ranks" -eq 1 ]; then
        "$BIN" run "$scenario" -q -o "$path" >/dev/null 2>&1 &
    else
        "$MPIEXEC" -n 2 "$BIN" run "$scenario" -q -o "$path" >/dev/null 2>&1 &
    fi
    job=$!
    disown "$job"   # no "Killed" notice from bash; the loop below waits instead
    victim=$job
    if [ "$ranks" -eq 2 ]; then
        # Delays count from the start of rank 0, the process that is hit.
        for ((w = 0; w < 3000; w++)); do
            victim=$(rank_zero_pid "$job")
            [ -z "$victim" ] || break
            sleep 0.01
        done
        [ -n "$victim" ] || fail "rank 0 of run $i did not start within 30 s"
    fi

    # Every third kill waits for the temporary file to appear, which puts
    # it between the first byte written and the rename. The others come
    # after a seeded delay of up to 1.5 runs.
    if [ $((i % 3)) -eq 2 ]; then
        moment="while writing"
        waited=0
        while kill -0 "$job" 2>/dev/null && ! compgen -G "$dir/result.json.tmp.*" >/dev/null; do
            waited=$((waited + 1))
            [ "$waited" -lt 2000000 ] || break
        done
    else
        delay=$((RANDOM % (run_ms * 3 / 2 + 1)))
        moment="after $delay ms"
        sleep "$(printf '0.%03d' "$delay")"
    fi
    kill -s "$signal" "$victim" 2>/dev/null || true

    # The job ends by itself once its writer is gone; a job that goes on
    # past the limit is a hang.
    for ((w = 0; w < 300; w++)); do
        kill -0 "$job" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$job" 2>/dev/null && fail "SIG$signal to rank 0 on $ranks ranks: the job did not end in 30 s"
    if compgen -G "$dir/result.json.tmp.*" >/dev/null; then
        in_write=$((in_write + 1))
    fi
    check_path "run $i, SIG$signal $moment on $ranks rank(s)"
done
[ "$in_write" -ge 1 ] ||
    fail "no kill landed while the temporary file existed, so the replacement itself was not tested"
echo "$KILLS killed runs: $kept left the older file, $replaced a complete new one;" \
    "$in_write were killed while the temporary file existed"

# A result folder that is missing or cannot be written is an input error
# found before the topology is built: no progress line about it appears.
# expect_rejected PATH WORDS: run with -o PATH, expect status 2 and WORDS.
expect_rejected() {
    set +e
    "$BIN" run "$scenario" -o "$1" >"$TMP/out" 2>"$TMP/err"
    local status=$?
    set -e
    [ "$status" -eq 2 ] || fail "-o $1: exit status $status, expected 2: $(cat "$TMP/err")"
    grep -q "$2" "$TMP/err" || fail "-o $1: message lacks '$2': $(cat "$TMP/err")"
    grep -q 'building the topology\|policy' "$TMP/err" &&
        fail "-o $1: the run started before the folder was checked: $(cat "$TMP/err")"
    [ ! -e "$1" ] || fail "-o $1: a result was written"
}

expect_rejected "$TMP/no/such/folder/result.json" "does not exist"

# Root may write into a folder without write permission, so the folders
# that root cannot write are made in two other ways. One is a path whose
# "folder" is a regular file. The other is a read-only tmpfs mounted in a
# private mount namespace (unshare), where the kernel rejects every write.
touch "$TMP/plain-file"
expect_rejected "$TMP/plain-file/result.json" "is not writable"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$TMP/read-only"
    chmod 0555 "$TMP/read-only"
    expect_rejected "$TMP/read-only/result.json" "is not writable"
fi
mkdir "$TMP/ro-mount"
if unshare --mount true 2>/dev/null; then
    set +e
    unshare --mount bash -c '
        mount -t tmpfs -o ro,size=1m tmpfs "$1" || exit 99
        "$2" run "$3" -o "$1/result.json" >/dev/null 2>"$4/err"' \
        - "$TMP/ro-mount" "$BIN" "$scenario" "$TMP"
    status=$?
    set -e
    if [ "$status" -eq 99 ]; then
        echo "read-only tmpfs not tested: mount is not permitted here"
    else
        [ "$status" -eq 2 ] || fail "read-only tmpfs: exit status $status, expected 2: $(cat "$TMP/err")"
        grep -q "is not writable" "$TMP/err" || fail "read-only tmpfs: $(cat "$TMP/err")"
        grep -q 'building the topology' "$TMP/err" && fail "read-only tmpfs: the run started"
        echo "read-only tmpfs rejected"
    fi
else
    echo "read-only tmpfs not tested: unshare --mount is not permitted here"
fi
echo ok
