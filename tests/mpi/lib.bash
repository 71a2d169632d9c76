# Helpers shared by the integration scripts (sourced, not run).
set -euo pipefail
BIN=${BIN:-./trustchain}
MPIEXEC=${MPIEXEC:-mpiexec}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run_ranks N ARGS...: the real binary on N ranks (oversubscribed is fine).
run_ranks() {
    local n=$1
    shift
    timeout 600 "$MPIEXEC" -n "$n" "$BIN" "$@"
}

# results_only FILE: the result JSON without the machine-dependent parts.
results_only() {
    jq -S 'del(.timings, .run)' "$1"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
