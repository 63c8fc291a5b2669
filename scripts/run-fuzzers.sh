#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/bin for SECONDS each on its seed corpus in fuzz/corpus/<name>.
# New inputs go to a scratch folder, so the checked-in corpus only changes by hand.
set -euo pipefail
build_dir=${1:-build-fuzz}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for target in "$build_dir"/bin/*_fuzz; do
  name=$(basename "$target" _fuzz)
  corpus="$root/fuzz/corpus/$name"
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$scratch/$name-" "$scratch/$name" "$corpus" >"$scratch/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; last lines of its log:"
    tail -n 40 "$scratch/$name.log"
    mkdir -p "$root/fuzz-out" && cp "$scratch/$name"-* "$root/fuzz-out/" 2>/dev/null || true
    status=1
  else
    grep -E '^(Done|#[0-9]+.*DONE)' "$scratch/$name.log" | tail -n 1 || true
  fi
done
exit $status
