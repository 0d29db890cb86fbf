#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each). Not part of CI.
#   fuzz/run.sh            # 60 s per target
#   SECONDS_PER_TARGET=300 fuzz/run.sh
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain, cargo-fuzz's nightly
# flags are enabled with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${SECONDS_PER_TARGET:-60}
for target in h1_sentinel config_yaml request_path forwarded normalizer body_inspection openapi_load hmac_canonical basic_credentials; do
  mkdir -p "corpus/$target"
  echo "== $target ($SECS s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$SECS" -rss_limit_mb=2048
done
