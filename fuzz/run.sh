#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after the other (one libFuzzer process, one
# core: the machine is shared). Not part of CI.
#   fuzz/run.sh                              # default times below
#   SECONDS_PER_TARGET=300 fuzz/run.sh       # the same time for every target
#   fuzz/run.sh normalizer openapi_load      # only these targets
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain, cargo-fuzz's nightly
# flags (sanitizer instrumentation) are enabled with RUSTC_BOOTSTRAP=1.
#
# Each target starts from its committed seeds, fuzz/corpus/<target>/seed-* (what libFuzzer adds
# next to them is git-ignored). Findings land in fuzz/artifacts/<target>/; the last line of each
# run (`Done N runs in S second(s)`, and `#N DONE cov: .. ft: ..`) is kept in
# fuzz/logs/<target>.log (git-ignored) for docs/firewall.md#fuzzing.
set -euo pipefail
cd "$(dirname "$0")"

# Seconds per target: the issue-5 targets (normaliser, JSON/XML body inspection, OpenAPI
# loader) get 300 s, the small parsers 120 s.
declare -A DEFAULT_SECS=(
  [normalizer]=300 [body_inspection]=300 [openapi_load]=300
  [h1_sentinel]=120 [config_yaml]=120 [request_path]=120 [forwarded]=120
  [hmac_canonical]=120 [basic_credentials]=120 [api_key_format]=120 [jwt_verify]=120
)
ALL=(normalizer body_inspection openapi_load h1_sentinel config_yaml request_path forwarded
  hmac_canonical basic_credentials api_key_format jwt_verify)
TARGETS=("${@:-${ALL[@]}}")

export RUSTC_BOOTSTRAP=1
cargo fuzz build
mkdir -p logs
failed=()
for target in "${TARGETS[@]}"; do
  secs=${SECONDS_PER_TARGET:-${DEFAULT_SECS[$target]:-120}}
  mkdir -p "corpus/$target"
  echo "== $target ($secs s)"
  status=0
  cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"logs/$target.log" 2>&1 || status=$?
  grep -E '^#[0-9]+\s+(INITED|DONE)|^Done|SUMMARY|panicked' "logs/$target.log" || true
  if [ "$status" -ne 0 ]; then
    echo "!! $target failed (exit $status): see fuzz/logs/$target.log and fuzz/artifacts/$target/"
    failed+=("$target")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
