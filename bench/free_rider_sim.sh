#!/usr/bin/env bash
# Free riders in the simulator (issue 5's scenario at the flow level): 16 leechers, a 96 MiB file
# in 256 KiB pieces, leechers upload 1 MiB/s, the seed 4 MiB/s; without free riders and with a
# quarter of them. Prints the median over SEEDS random seeds of the contributors' mean
# completion, the free riders' mean, and the two ratios the issue's goal names.
# Usage: bash bench/free_rider_sim.sh [STARLING] [SEEDS] [extra sim flags...]
set -euo pipefail
starling=${1:-build/bin/starling}
seeds=${2:-10}
shift $(( $# >= 2 ? 2 : $# ))
run() {
  for s in $(seq 1 "$seeds"); do
    "$starling" sim --peers 16 --pieces 384 --piece-size 256k --up 1m --down 100m --seed-up 4m \
      --seed "$s" --json "$@" 2>/dev/null
    echo
  done
}
{ run "$@"; echo "---"; run --free-riders 0.25 "$@"; } | python3 -c '
import json, statistics, sys
text = sys.stdin.read().split("---")
without = [json.loads(l) for l in text[0].splitlines() if l.strip()]
with_riders = [json.loads(l) for l in text[1].splitlines() if l.strip()]
base = statistics.median(d["mean_s"] for d in without)
contrib = statistics.median(d["contributor_mean_s"] for d in with_riders)
riders = statistics.median(d["free_rider_mean_s"] for d in with_riders)
print(f"runs: {len(without)} + {len(with_riders)}")
print(f"contributors, no free riders: median of means {base:.1f} s")
print(f"contributors, 25 % free riders: {contrib:.1f} s  (with/without {contrib / base:.3f})")
print(f"free riders: {riders:.1f} s  (riders/contributors {riders / contrib:.3f})")
'
