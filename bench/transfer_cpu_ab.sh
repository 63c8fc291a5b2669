#!/usr/bin/env bash
# A/B of starling builds on CPU: one seed -> one leecher over loopback TCP per run, builds
# interleaved round by round, so a change's CPU cost shows even on a machine too noisy for wall
# times. Prints per-build medians of the leecher's wall time and the CPU (user + system, from
# /usr/bin/time) of the leecher, of the seed (including its shutdown), and of both.
#
#   bash bench/transfer_cpu_ab.sh [RUNS] VARIANT...      (RUNS default 4)
#
# A VARIANT is a binary, optionally followed by options for its leecher in the same word:
# 'build/bin/starling --disk-threads 2' (so one binary can be compared with itself under other
# settings).
#
# Environment: BENCH_DIR (default /tmp/starling-bench: the 1 GiB random file, made if missing),
# TIMEOUT (per process, default 120 s), RAW=1 to print each run's line to stderr, CHRT=1 to run seed and leecher under `chrt -r 1` (other
# jobs on a shared machine then cannot preempt them; needs root). Needs /usr/bin/time.
set -euo pipefail

RUNS=4
if [[ ${1:-} =~ ^[1-9][0-9]*$ ]]; then RUNS=$1; shift; fi
(($# > 0)) || { echo "usage: $0 [RUNS] BINARY..." >&2; exit 2; }
BENCH_DIR=${BENCH_DIR:-/tmp/starling-bench}
TIMEOUT=${TIMEOUT:-120}
FILE=$BENCH_DIR/random-1GiB.bin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/starling-cpu-ab.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$BENCH_DIR"
if [[ ! -f $FILE ]]; then head -c $((1 << 30)) /dev/urandom >"$FILE"; fi
PRIO=()
if [[ ${CHRT:-0} == 1 ]]; then PRIO=(chrt -r 1); fi
read -r -a first <<<"$1"
"${first[0]}" create "$FILE" -o "$WORK/t.torrent" --piece-size 1m -q

one_run() {  # VARIANT -> "wall leech_cpu seed_cpu"
  local variant bin port=$((20000 + RANDOM % 20000)) seed
  read -r -a variant <<<"$1"
  bin=${variant[0]}
  local extra=("${variant[@]:1}")
  # `sync` after removing the last run's 1 GiB: the root filesystem here is ext4 mounted with
  # `discard`, and the discard of a just-deleted file otherwise lands in the next run (0.6 s
  # runs then took 1.0-1.7 s, at twice the CPU).
  rm -rf "$WORK/dl" && mkdir "$WORK/dl" && sync
  /usr/bin/time -f "%U %S" -o "$WORK/seed.time" timeout "$TIMEOUT" "${PRIO[@]}" "$bin" seed \
    "$WORK/t.torrent" "$BENCH_DIR" --skip-check --listen "127.0.0.1:$port" --seed-time "$TIMEOUT" \
    --tcp-only -q &
  seed=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  /usr/bin/time -f "%e %U %S" -o "$WORK/leech.time" timeout "$TIMEOUT" "${PRIO[@]}" "$bin" \
    download "$WORK/t.torrent" -o "$WORK/dl" --peer "127.0.0.1:$port" --listen 127.0.0.1:0 \
    --tcp-only -q "${extra[@]}"
  cmp -s "$FILE" "$WORK/dl/$(basename "$FILE")" || { echo "$bin: download differs" >&2; exit 1; }
  pkill -INT -P "$seed" || true
  wait "$seed" || true
  read -r wall lu ls < <(tail -n 1 "$WORK/leech.time")
  # The last line: `time` puts "Command terminated by signal N" first when that is how it ended.
  read -r su ss < <(tail -n 1 "$WORK/seed.time")
  awk -v w="$wall" -v lu="$lu" -v ls="$ls" -v su="$su" -v ss="$ss" \
    'BEGIN { printf "%s %.2f %.2f\n", w, lu + ls, su + ss }'
}

# Every other round runs the variants in reverse order: the first run of a round was measured
# slower than the second in some hours (0.97-1.10 s against 0.60-0.65 s, whichever binary went
# first), so a fixed order would credit the second variant with the difference.
variants=("$@")
reversed=()
for ((i = $# - 1; i >= 0; i--)); do reversed+=("${variants[i]}"); done
for ((round = 0; round < RUNS; round++)); do
  if ((round % 2 == 0)); then order=("${variants[@]}"); else order=("${reversed[@]}"); fi
  for variant in "${order[@]}"; do
    line="${variant// /_} $(one_run "$variant")"
    echo "$line"
    [[ -n ${RAW:-} ]] && echo "$line" >&2
  done
done | awk '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { n[$1]++; w[$1] = w[$1] " " $2; l[$1] = l[$1] " " $3; s[$1] = s[$1] " " $4; b[$1] = b[$1] " " ($3 + $4) }
  END {
    printf "| build | runs | leecher wall s | leecher CPU s | seed CPU s | both, CPU s |\n|---|---|---|---|---|---|\n"
    for (k in n) printf "| %s | %d | %.2f | %.2f | %.2f | %.2f |\n", k, n[k], median(w[k]), median(l[k]), median(s[k]), median(b[k])
  }'
