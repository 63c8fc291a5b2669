#!/usr/bin/env bash
# Benchmark: tracker announces per second, starling tracker against opentracker, on loopback;
# or, with COMPARE=redis, starling's Redis peer store (`--store redis://`, a private
# redis-server started here) against its in-memory store.
#
# RUNS rounds (default 3); in each round, for the reference (opentracker, or starling in memory)
# and then starling (each started fresh, both with the same whitelist of TORRENTS info-hashes):
#   HTTP: wrk -t1 -c32 -d SECONDS with bench/tracker_announce.lua (every request a distinct
#         peer: peer_id and port from a counter, info-hash cycling through the list)
#   UDP:  build/bin/udp_announce_load --threads 2 --seconds SECONDS (connect, then batches of 64
#         announces, each a distinct peer)
# Prints each measurement, then medians and the starling / opentracker ratios.
# Every process is bounded by `timeout`; servers listen on 127.0.0.1 only and are stopped at the
# end of each measurement (and by the EXIT trap).
#
# Environment: STARLING (build/bin/starling), LOAD (build/bin/udp_announce_load), RUNS (3),
# SECONDS_PER_RUN (5), TORRENTS (1000), THREADS (starling --threads; default one per core),
# BATCH (UDP announces each generator thread sends before it waits for their replies; 64),
# COMPARE (opentracker, or redis).
# Needs wrk and opentracker, or redis-server for COMPARE=redis (scripts/deps.sh installs them).
set -euo pipefail

STARLING=${STARLING:-build/bin/starling}
LOAD=${LOAD:-build/bin/udp_announce_load}
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
TORRENTS=${TORRENTS:-1000}
THREADS=${THREADS:-}
BATCH=${BATCH:-64}
COMPARE=${COMPARE:-opentracker}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "tracker_bench: $*" >&2; exit 1; }
[[ -x "$STARLING" ]] || die "no starling binary at '$STARLING' (make build)"
[[ -x "$LOAD" ]] || die "no load generator at '$LOAD' (make build)"
command -v wrk >/dev/null || die "wrk is missing (scripts/deps.sh)"
case "$COMPARE" in
  opentracker)
    command -v opentracker >/dev/null || die "opentracker is missing (scripts/deps.sh)"
    names=(opentracker starling) ;;
  redis)
    command -v redis-server >/dev/null || die "redis-server is missing (scripts/deps.sh)"
    names=(starling starling-redis) ;;
  *) die "COMPARE must be opentracker or redis, not '$COMPARE'" ;;
esac
reference=${names[0]}
subject=${names[1]}

work=$(mktemp -d)
chmod 755 "$work"  # opentracker drops to 'nobody' and must still read the whitelist
server_pid=""
redis_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$redis_pid" ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$LOAD" --print-hashes "$TORRENTS" > "$work/whitelist.txt"
"$LOAD" --print-hashes "$TORRENTS" --escaped > "$work/escaped.txt"
chmod 644 "$work"/*.txt
export TRACKER_HASHES="$work/escaped.txt"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "nothing listens on port $1"
}

redis_port=""
if [[ "$COMPARE" == redis ]]; then
  redis_port=$(free_port)
  timeout $(((SECONDS_PER_RUN * 2 + 30) * RUNS * 2 + 60)) redis-server --port "$redis_port" \
    --bind 127.0.0.1 --dir "$work" --save "" --appendonly no --logfile "$work/redis.log" &
  redis_pid=$!
  wait_port "$redis_port"
fi

start_server() {  # name port
  local limit=$((SECONDS_PER_RUN * 2 + 30))
  if [[ "$1" == opentracker ]]; then
    timeout "$limit" opentracker -i 127.0.0.1 -p "$2" -P "$2" -w "$work/whitelist.txt" \
      > "$work/server.log" 2>&1 &
  elif [[ "$1" == starling-redis ]]; then
    # A fresh key prefix per run: every run starts from an empty store, as the others do.
    timeout "$limit" "$STARLING" tracker --http "127.0.0.1:$2" --whitelist "$work/whitelist.txt" \
      --store "redis://127.0.0.1:$redis_port/0?prefix=bench-$2" \
      ${THREADS:+--threads "$THREADS"} > "$work/server.log" 2>&1 &
  else
    timeout "$limit" "$STARLING" tracker --http "127.0.0.1:$2" --whitelist "$work/whitelist.txt" \
      ${THREADS:+--threads "$THREADS"} > "$work/server.log" 2>&1 &
  fi
  server_pid=$!
  wait_port "$2"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

measure_http() {  # port -> requests/s
  local out
  out=$(timeout $((SECONDS_PER_RUN + 30)) wrk -t1 -c32 -d"${SECONDS_PER_RUN}s" \
        -s "$here/tracker_announce.lua" "http://127.0.0.1:$1/" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; die "non-2xx HTTP answers"; fi
  awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out"
}

measure_udp() {  # port -> announces/s
  timeout $((SECONDS_PER_RUN + 30)) "$LOAD" --target "127.0.0.1:$1" --threads 2 \
    --batch "$BATCH" --seconds "$SECONDS_PER_RUN" --torrents "$TORRENTS" | awk '{printf "%d", $2}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

declare -A results
for run in $(seq 1 "$RUNS"); do
  for name in "${names[@]}"; do
    port=$(free_port)
    start_server "$name" "$port"
    http=$(measure_http "$port")
    udp=$(measure_udp "$port")
    stop_server
    results[$name.http]+="$http "
    results[$name.udp]+="$udp "
    echo "run $run $name: HTTP $http announces/s, UDP $udp announces/s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  done
done

echo
echo "starling --threads ${THREADS:-default (one per core)}; UDP generator: 2 threads, batches of $BATCH"
echo "| tracker | HTTP announces/s (median of $RUNS) | UDP announces/s (median of $RUNS) |"
echo "|---|---|---|"
for name in "${names[@]}"; do
  h=$(tr ' ' '\n' <<<"${results[$name.http]}" | grep . | median)
  u=$(tr ' ' '\n' <<<"${results[$name.udp]}" | grep . | median)
  results[$name.hm]=$h
  results[$name.um]=$u
  echo "| $name | $h | $u |"
done
awk -v a="${results[$subject.hm]}" -v b="${results[$reference.hm]}" \
    -v c="${results[$subject.um]}" -v d="${results[$reference.um]}" -v s="$subject" -v r="$reference" \
    'BEGIN {printf "\n%s / %s: HTTP %.2fx, UDP %.2fx\n", s, r, a / b, c / d}'
