#!/usr/bin/env bash
# The test suite's smoke run of the settlement benchmark: scripts/bench --smoke --scenario
# settlements against the binaries of this build directory; passes if it exits 0, every settlement
# committed and the JSON carries every figure.
#   tests/bench/settle_smoke_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$1
bin=$2
out=$(mktemp "${TMPDIR:-/tmp}/puhui-settle-smoke.XXXXXX.json")
trap 'rm -f "$out"' EXIT
"$src/scripts/bench" --smoke --scenario settlements --bin "$bin" --json "$out"
missing=0
for field in settlements_per_s legs_per_s stream_delay_after_poll_ms stream_delay_after_block_time_ms \
  p50 p99 blocks_with_settlements; do
  grep -q "\"$field\"" "$out" || { echo "the JSON has no \"$field\"" >&2; missing=1; }
done
grep -q '"committed": 50,' "$out" || { echo "not every smoke settlement committed" >&2; missing=1; }
exit $missing
