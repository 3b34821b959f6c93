#!/usr/bin/env bash
# The test suite's smoke run of the benchmark harness: scripts/bench --smoke against the binaries
# of this build directory; passes if it exits 0 and its JSON carries every figure. Further
# arguments go to scripts/bench; with --affine the JSON must say so.
#   tests/bench/smoke_test.sh SOURCE_DIR BINARY_DIR [scripts/bench options...]
set -euo pipefail
src=$1
bin=$2
shift 2
out=$(mktemp "${TMPDIR:-/tmp}/puhui-bench-smoke.XXXXXX.json")
trap 'rm -f "$out"' EXIT
"$src/scripts/bench" --smoke --bin "$bin" --json "$out" "$@"
missing=0
for field in committed_tps committed_tps_overall latency_s p50 p95 p99 blocks_per_s txs_per_block \
  refusals nodes cpu_percent peak_rss_mib peak_anon_rss_mib ceilings bip340_verify_per_s sha256_per_s \
  bip340_verify_per_s_before bip340_verify_per_s_after leveldb_synced_batches_per_s \
  verification_bound_tps ratio_to_verification_bound signature_checks in_nodes_us alone_us \
  nodes_cpu_percent_by_thread in_blocks ratio_factors checks_share_of_machine checks_needed_per_made \
  check_cpu_alone_per_in_nodes machine_share nodes_other_threads load_generator idle; do
  grep -q "\"$field\"" "$out" || { echo "the JSON has no \"$field\"" >&2; missing=1; }
done
grep -q '"committed": 400,' "$out" || { echo "not every smoke transfer committed" >&2; missing=1; }
# The nodes report the signatures they checked: every transfer at least once on each of the four.
checked=$(grep -o '"checked": [0-9]*' "$out" | head -1 | grep -o '[0-9]*$' || echo 0)
[ "${checked:-0}" -ge 1600 ] || { echo "the nodes checked ${checked:-no} signatures" >&2; missing=1; }
grep -q '"in_nodes_us": 0\.0,' "$out" && { echo "no CPU time for the nodes' checks" >&2; missing=1; }
# The nodes name their threads by role (node/thread_name.h): the checks' threads show as "verify"
# (their CPU in so short a run may round to zero clock ticks, so only the role is required).
grep -Eq '"verify": [0-9]' "$out" || { echo "no verify threads among the nodes' threads" >&2; missing=1; }
# Every validator checks every transfer once at least, so needed / made is in (0, 1].
grep -Eq '"checks_needed_per_made": (0\.[0-9]*[1-9][0-9]*|1\.0),' "$out" ||
  { echo "checks needed per check made is not in (0, 1]" >&2; missing=1; }
case " $* " in
  *" --affine "*) grep -q '"affine": true' "$out" || { echo "the run was not affine" >&2; missing=1; } ;;
esac
exit $missing
