#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/bin for SECONDS each on its seed corpus in fuzz/corpus/<name>,
# PARALLEL targets at a time (default 1). New inputs go to a scratch folder, so the checked-in corpus
# only changes by hand. Exit 1 if any target found a crash, a leak or a timeout; its log tail and
# its artifacts (copied to fuzz-out/) say which input.
set -euo pipefail
build_dir=${1:-build-fuzz}
seconds=${2:-20}
parallel=${3:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fuzz_one() {
  local target=$1 name
  name=$(basename "$target" _fuzz)
  local corpus="$root/fuzz/corpus/$name"
  mkdir -p "$scratch/$name"
  if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$scratch/$name-" "$scratch/$name" "$corpus" >"$scratch/$name.log" 2>&1; then
    echo "fuzz: $name for ${seconds}s: $(grep -E '^(Done|#[0-9]+.*DONE)' "$scratch/$name.log" | tail -n 1)"
  else
    echo "fuzz: $name FAILED; last lines of its log:"
    tail -n 40 "$scratch/$name.log"
    mkdir -p "$root/fuzz-out" && cp "$scratch/$name"-* "$root/fuzz-out/" 2>/dev/null || true
    touch "$scratch/failed"
  fi
}

running=0
for target in "$build_dir"/bin/*_fuzz; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait
[[ ! -e "$scratch/failed" ]]
