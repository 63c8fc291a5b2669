#!/usr/bin/env bash
# The HAVE tick against the reference: REF, NEW --have-batch receiver, NEW on 1 thread and NEW on
# 2 threads (the tick, the default), alternating so that load from other jobs hits all alike.
# Prints user CPU, wall and peak RSS per variant (medians), and checks the summaries: receiver
# must equal REF bit for bit (same model), and the tick on 1 and 2 threads must equal each other.
#
#   bench/sim_ab_tick.sh NEW REF [N] [RUNS]   e.g. bench/sim_ab_tick.sh build/bin/starling /tmp/ref 2000 3
set -euo pipefail
NEW=$1
REF=$2
N=${3:-2000}
RUNS=${4:-3}
ARGS=(sim --peers "$N" --pieces 1000 --piece-size 256k --up 1m --down 8m --seed-up 4m --seed 1 --json)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for i in $(seq "$RUNS"); do
  for which in ref receiver tick1 tick2; do
    case $which in
      ref) cmd=("$REF" "${ARGS[@]}") ;;
      receiver) cmd=("$NEW" "${ARGS[@]}" --have-batch receiver) ;;
      tick1) cmd=("$NEW" "${ARGS[@]}" --threads 1) ;;
      tick2) cmd=("$NEW" "${ARGS[@]}" --threads 2) ;;
    esac
    /usr/bin/time -f "%U %M %e" -o "$OUT/$which.$i.time" "${cmd[@]}" >"$OUT/$which.$i.json"
  done
done
python3 - "$OUT" "$RUNS" "$N" <<'PY'
import json, os, statistics, sys
out, runs, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
summary = {}
print(f"n={n} runs={runs} load={os.getloadavg()[0]:.1f}")
for which in ("ref", "receiver", "tick1", "tick2"):
    users, walls, rss = [], [], []
    for i in range(1, runs + 1):
        u, m, w = open(os.path.join(out, f"{which}.{i}.time")).read().split()
        users.append(float(u)); rss.append(int(m) / 1024); walls.append(float(w))
        s = json.load(open(os.path.join(out, f"{which}.{i}.json")))
        s.pop("wall_s"); s.pop("max_rss_mib")
        summary[which] = s
    print(f"  {which:8} user {statistics.median(users):7.2f} s {sorted(users)}  "
          f"wall {statistics.median(walls):7.2f} s {sorted(walls)}  rss {max(rss):.0f} MiB  "
          f"ratio {summary[which]['ratio']:.4f}  events {summary[which]['events']}")
print(f"  receiver == ref: {summary['receiver'] == summary['ref']}  "
      f"tick1 == tick2: {summary['tick1'] == summary['tick2']}")
PY
