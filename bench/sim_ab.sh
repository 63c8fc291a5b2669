#!/usr/bin/env bash
# A/B of two starling builds on the simulator: user CPU and wall time (medians) and whether the
# JSON summaries are identical apart from wall_s and max_rss_mib (bit for bit: same seed, same
# model). Extra arguments after RUNS go to NEW only (e.g. --threads 1, --have-batch receiver;
# --grid 0 for the exact model, to compare with a binary from before the time grid).
#
#   bench/sim_ab.sh NEW REF [N] [RUNS] [NEW_ARGS...]
#   e.g. bench/sim_ab.sh build/bin/starling /tmp/ref 2000 3 --have-batch receiver
#
# Runs alternate NEW, REF, NEW, REF, ... so that load from other jobs hits both alike.
set -euo pipefail
NEW=$1
REF=$2
N=${3:-2000}
RUNS=${4:-3}
shift $(($# < 4 ? $# : 4))
NEW_ARGS=("$@")
ARGS=(sim --peers "$N" --pieces 1000 --piece-size 256k --up 1m --down 8m --seed-up 4m --seed 1 --json)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for i in $(seq "$RUNS"); do
  for which in new ref; do
    cmd=("$NEW" "${ARGS[@]}" "${NEW_ARGS[@]}")
    [ "$which" = ref ] && cmd=("$REF" "${ARGS[@]}")
    /usr/bin/time -f "%U %M %e" -o "$OUT/$which.$i.time" "${cmd[@]}" >"$OUT/$which.$i.json"
  done
done
python3 - "$OUT" "$RUNS" "$N" <<'PY'
import json, os, statistics, sys
out, runs, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(which):
    users, rss, walls, sums = [], [], [], []
    for i in range(1, runs + 1):
        u, m, w = open(os.path.join(out, f"{which}.{i}.time")).read().split()
        users.append(float(u)); rss.append(int(m) / 1024); walls.append(float(w))
        s = json.load(open(os.path.join(out, f"{which}.{i}.json")))
        s.pop("wall_s"); s.pop("max_rss_mib")
        sums.append(s)
    return users, rss, walls, sums
nu, nr, nw, ns = load("new")
ru, rr, rw, rs = load("ref")
print(f"n={n} runs={runs} load={os.getloadavg()[0]:.1f}")
for name, u, r, w in (("new", nu, nr, nw), ("ref", ru, rr, rw)):
    print(f"  {name} user s {sorted(u)} median {statistics.median(u):.2f}  "
          f"wall s {sorted(w)} median {statistics.median(w):.2f}  rss {max(r):.0f} MiB")
print(f"  new/ref user {statistics.median(nu) / statistics.median(ru):.3f}  "
      f"wall {statistics.median(nw) / statistics.median(rw):.3f}")
print(f"  identical summaries: {ns[0] == rs[0]}  new ratio {ns[0]['ratio']:.4f} ref ratio {rs[0]['ratio']:.4f}")
PY
