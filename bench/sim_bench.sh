#!/usr/bin/env bash
# The simulator's goals run: wall time, peak RSS and mean / T_min for flash crowds, against a
# reference binary (another build of starling) in the same invocation, alternating the two.
#
#   bench/sim_bench.sh [NEW] [REF] [RUNS] [SIZES] [GOAL_N]
#     NEW    starling to measure            (default build/bin/starling)
#     REF    reference starling             (default: none, only NEW is run)
#     RUNS   runs per size and binary       (default 3; medians are printed)
#     SIZES  leechers for the comparison    (default "1000 3000")
#     GOAL_N the goal run, NEW only, once   (default 10000; 0 to skip)
#
# Every run is a bounded simulation (its own time limit) on one core; nothing touches the network.
set -euo pipefail
NEW=${1:-build/bin/starling}
REF=${2:-}
RUNS=${3:-3}
SIZES=${4:-"1000 3000"}
GOAL_N=${5:-10000}
COMMON=(sim --pieces 1000 --piece-size 256k --up 1m --down 8m --seed-up 4m --seed 1 --json)
OUT=$(mktemp -d)
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: ${COMMON[*]} --peers N"

one() {  # one run: prints "wall_s user_s max_rss_mib ratio"
  local bin=$1 n=$2 extra=${3:-}
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %U %M' -o "$OUT/time" "$bin" "${COMMON[@]}" --peers "$n" $extra \
    >"$OUT/json" || true
  local ratio
  ratio=$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["ratio"])' \
    "$OUT/json")
  read -r wall user rss <"$OUT/time"
  echo "$wall $user $((rss / 1024)) $ratio"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for n in $SIZES; do
  : >"$OUT/new.$n"
  : >"$OUT/ref.$n"
  for _ in $(seq "$RUNS"); do
    one "$NEW" "$n" >>"$OUT/new.$n"
    [ -n "$REF" ] && one "$REF" "$n" >>"$OUT/ref.$n"
  done
  for which in new ref; do
    [ -s "$OUT/$which.$n" ] || continue
    wall=$(cut -d' ' -f1 "$OUT/$which.$n" | median)
    user=$(cut -d' ' -f2 "$OUT/$which.$n" | median)
    rss=$(cut -d' ' -f3 "$OUT/$which.$n" | median)
    ratio=$(cut -d' ' -f4 "$OUT/$which.$n" | median)
    echo "n=$n $which: median of $RUNS: wall ${wall} s, user ${user} s, max RSS ${rss} MiB, mean/T_min ${ratio}"
    echo "$user" >"$OUT/$which.$n.user"
  done
  if [ -n "$REF" ]; then
    python3 -c 'import sys; print("n=%s user-time ratio new/ref: %.2f" % (sys.argv[1], float(open(sys.argv[2]).read()) / float(open(sys.argv[3]).read())))' \
      "$n" "$OUT/new.$n.user" "$OUT/ref.$n.user"
  fi
done

if [ "$GOAL_N" != 0 ]; then
  for extra in "" "--max-connections 40 --neighbours 30"; do
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$OUT/timev" "$NEW" "${COMMON[@]}" --peers "$GOAL_N" $extra >"$OUT/json" || true
    echo "goal n=$GOAL_N ${extra:-(defaults)}: $(cat "$OUT/json")"
    grep -E 'Elapsed|Maximum resident|User time' "$OUT/timev" | sed 's/^\s*/  /'
  done
fi
rm -rf "$OUT"
