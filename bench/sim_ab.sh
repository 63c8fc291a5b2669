#!/usr/bin/env bash
# A/B of two starling builds on the simulator: user CPU (medians) and whether the JSON summaries
# are identical apart from wall_s and max_rss_mib (bit for bit: same seed, same model).
#
#   bench/sim_ab.sh NEW REF [N] [RUNS]     e.g. bench/sim_ab.sh build/bin/starling /tmp/ref 2000 3
#
# Runs alternate NEW, REF, NEW, REF, ... so that load from other jobs hits both alike.
set -euo pipefail
NEW=$1
REF=$2
N=${3:-2000}
RUNS=${4:-3}
ARGS=(sim --peers "$N" --pieces 1000 --piece-size 256k --up 1m --down 8m --seed-up 4m --seed 1 --json)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for i in $(seq "$RUNS"); do
  for which in new ref; do
    bin=$NEW
    [ "$which" = ref ] && bin=$REF
    /usr/bin/time -f "%U %M" -o "$OUT/$which.$i.time" "$bin" "${ARGS[@]}" >"$OUT/$which.$i.json"
  done
done
python3 - "$OUT" "$RUNS" "$N" <<'PY'
import json, os, statistics, sys
out, runs, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(which):
    users, rss, sums = [], [], []
    for i in range(1, runs + 1):
        u, m = open(os.path.join(out, f"{which}.{i}.time")).read().split()
        users.append(float(u)); rss.append(int(m) / 1024)
        s = json.load(open(os.path.join(out, f"{which}.{i}.json")))
        s.pop("wall_s"); s.pop("max_rss_mib")
        sums.append(s)
    return users, rss, sums
nu, nr, ns = load("new")
ru, rr, rs = load("ref")
print(f"n={n} runs={runs} load={os.getloadavg()[0]:.1f}")
print(f"  new user s {sorted(nu)} median {statistics.median(nu):.2f}  rss {max(nr):.0f} MiB")
print(f"  ref user s {sorted(ru)} median {statistics.median(ru):.2f}  rss {max(rr):.0f} MiB")
print(f"  new/ref {statistics.median(nu) / statistics.median(ru):.3f}")
print(f"  identical summaries: {ns[0] == rs[0]}  new ratio {ns[0]['ratio']:.4f} ref ratio {rs[0]['ratio']:.4f}")
PY
