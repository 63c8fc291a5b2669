#!/usr/bin/env bash
# Benchmark: transfer a file (1 GiB by default) over loopback, one seed to one leecher.
#
# Times RUNS rounds (default 3) of, interleaved in each round (order reversed every other round),
# every pair in PAIRS:
#   starling       starling seed (--skip-check) -> starling download --peer 127.0.0.1:P, TCP only
#   starling-utp   the same, uTP only (BEP 29)
#   libtorrent     libtorrent seed -> libtorrent leecher, two /usr/bin/python3 processes, both
#     sessions with lt.high_performance_seed() settings plus: listen on 127.0.0.1,
#     DHT/LSD/UPnP/NAT-PMP off, uTP off, allow_multiple_connections_per_ip. The seed hash-checks
#     the data before it is ready (not timed); the leecher connect_peer()s to it and exits once
#     it is seeding.
#   libtorrent-utp the same with TCP off and uTP on.
# Both sides use the same .torrent (made by starling, 1 MiB pieces). Only the leecher process
# is timed: wall seconds from a monotonic clock around the process (so start-up, and for
# libtorrent Python's start-up and `import libtorrent`, are included), peak RSS from
# `/usr/bin/time -v`. The seed is started first and the clock starts once its port accepts.
# Every run must exit 0 and give a file identical to the source (cmp), or the script stops.
# The source file is page-cache warm; downloads go to a temp folder on $TMPDIR (a real disk
# here, writes stay in the page cache) and are deleted after each check.
#
# CPU: user + system seconds of the leecher process (and of the seed for starling pairs, whose
# seed does no hash check), per GiB moved.
#
# Environment:
#   STARLING   starling binary (default build/bin/starling)
#   BENCH_DIR  cache folder for the random file (default /tmp/starling-bench; reused)
#   RUNS       rounds (default 3)
#   PAIRS      pairs to run, in this order in odd rounds and reversed in even ones (default
#              "starling libtorrent")
#   SIZE_MIB   file size in MiB (default 1024)
#   TIMEOUT    bound in seconds on every process started here (default 120)
#   WARMUP     1 (default): an untimed run of the same pair before each timed one; 0: none
#   CHRT       1: run every seed and leecher (both pairs alike) under `chrt -r 1` (SCHED_RR), so
#              other jobs on a shared machine cannot preempt them: the times are then those of an
#              idle machine. Needs root (or CAP_SYS_NICE). Default 0.
# Needs /usr/bin/python3 with python3-libtorrent, /usr/bin/time and timeout; installs nothing.
set -euo pipefail

STARLING=${STARLING:-build/bin/starling}
BENCH_DIR=${BENCH_DIR:-/tmp/starling-bench}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
TIMEOUT=${TIMEOUT:-120}
PAIRS=${PAIRS:-starling libtorrent}
SIZE_MIB=${SIZE_MIB:-1024}
CHRT=${CHRT:-0}
PY=/usr/bin/python3

die() { echo "transfer_bench: $*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT must be a positive integer, got '$TIMEOUT'"
[[ "$CHRT" == 0 || "$CHRT" == 1 ]] || die "CHRT must be 0 or 1, got '$CHRT'"
PRIO=()
if [[ "$CHRT" == 1 ]]; then
  PRIO=(chrt -r 1)
  chrt -r 1 true 2>/dev/null || die "CHRT=1 needs permission for SCHED_RR (run as root)"
fi
[[ "$SIZE_MIB" =~ ^[1-9][0-9]*$ ]] || die "SIZE_MIB must be a positive integer, got '$SIZE_MIB'"
for pair in $PAIRS; do
  case $pair in starling | starling-utp | libtorrent | libtorrent-utp) ;;
    *) die "unknown pair '$pair' in PAIRS (starling, starling-utp, libtorrent, libtorrent-utp)" ;;
  esac
done
SIZE=$((SIZE_MIB * 1024 * 1024))
if ((SIZE_MIB == 1024)); then NAME=random-1GiB.bin; else NAME=random-${SIZE_MIB}MiB.bin; fi
[[ -x "$STARLING" ]] || die "no starling binary at '$STARLING' (build it, or set STARLING=path)"
[[ -x "$PY" ]] || die "$PY is missing"
"$PY" -c 'import libtorrent' 2>/dev/null ||
  die "python3-libtorrent is missing for $PY (Debian: apt-get install python3-libtorrent)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian: apt-get install time)"
command -v timeout >/dev/null || die "timeout (coreutils) is missing"
STARLING=$(readlink -f "$STARLING")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$BENCH_DIR"
FILE="$BENCH_DIR/$NAME"
if [[ ! -f "$FILE" || $(stat -c %s "$FILE") -ne $SIZE ]]; then
  echo "making $FILE ($SIZE_MIB MiB of random bytes)..." >&2
  head -c "$SIZE" /dev/urandom >"$FILE.tmp"
  mv "$FILE.tmp" "$FILE"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/starling-transfer-bench.XXXXXX")
PIDS=()  # background processes (each a `timeout`, which passes a signal on to its whole group)
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The libtorrent session both libtorrent processes use.
cat >"$WORK/lt_common.py" <<'EOF'
import sys, time
import libtorrent as lt

def session(port, utp):
    s = lt.high_performance_seed()
    s.update({"listen_interfaces": "127.0.0.1:%d" % port, "enable_dht": False,
              "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
              "enable_outgoing_utp": utp, "enable_incoming_utp": utp,
              "enable_outgoing_tcp": not utp, "enable_incoming_tcp": not utp,
              "allow_multiple_connections_per_ip": True})
    return lt.session(s)

def add(ses, torrent, save_path):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    return ses.add_torrent(atp)

def wait_seeding(h, what):
    while True:
        st = h.status()
        if st.errc.value():
            sys.exit("%s: torrent error: %s" % (what, st.errc.message()))
        if st.is_seeding:
            return
        time.sleep(0.02)
EOF

# lt_seed.py TORRENT DATA_DIR PORT READY_FILE tcp|utp: seeds until killed.
cat >"$WORK/lt_seed.py" <<'EOF'
import sys, time
from lt_common import session, add, wait_seeding
torrent, data_dir, port, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ses = session(port, sys.argv[5] == "utp")
h = add(ses, torrent, data_dir)
wait_seeding(h, "libtorrent seed")  # after a full hash check of the data
open(ready, "w").close()
while True:
    time.sleep(1)
EOF

# lt_leech.py TORRENT SAVE_DIR SEED_PORT tcp|utp: downloads from the seed, exits once complete.
cat >"$WORK/lt_leech.py" <<'EOF'
import sys
from lt_common import session, add, wait_seeding
torrent, save_dir, seed_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ses = session(0, sys.argv[4] == "utp")
h = add(ses, torrent, save_dir)
h.connect_peer(("127.0.0.1", seed_port))
wait_seeding(h, "libtorrent leecher")
EOF

# timed.py OUT RSS_FILE STDOUT_FILE CMD...: runs `timeout T /usr/bin/time -v CMD`, writes
# "seconds<TAB>max_rss_kb" to OUT and exits with the command's status. A signal it gets is
# passed on to `timeout`, which passes it on to the command.
cat >"$WORK/timed.py" <<'EOF'
import os, re, signal, subprocess, sys, time
out, rss_file, stdout_file, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cmd = ["timeout", "-k", "5", os.environ["TIMEOUT"], "/usr/bin/time", "-v", "-o", rss_file] + cmd
start = time.perf_counter()
p = subprocess.Popen(cmd, stdout=open(stdout_file, "wb"), stderr=open(stdout_file + ".err", "wb"))
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda s, _: p.send_signal(s))
rc = p.wait()
seconds = time.perf_counter() - start
report = open(rss_file).read()
m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", report))
with open(out, "w") as f:
    f.write("%.6f\t%s\t%.3f\n" % (seconds, m.group(1) if m else "0", cpu))
sys.exit(rc)
EOF
export TIMEOUT CHRT

free_port() {  # free for both TCP and UDP
  "$PY" -c '
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass'
}

# listening PORT tcp|utp: something accepts TCP connections on PORT / has UDP PORT bound.
listening() {
  if [[ $2 == tcp ]]; then
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  else
    ! "$PY" -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", int(sys.argv[1])))' "$1" \
      2>/dev/null
  fi
}

# wait_ready PID PORT tcp|utp [FILE]: until the port listens (and FILE exists), failing if PID
# exits.
wait_ready() {
  local pid=$1 port=$2 transport=$3 file=${4:-} deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -z "$file" || -e "$file" ]] && listening "$port" "$transport"; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

cpu_seconds() {  # user + system CPU seconds so far of the command a background `timeout` runs
  local child
  child=$(pgrep -P "$1" | head -n 1)
  [[ -n "$child" ]] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$child/stat"
}

forget() {  # drop PID from PIDS
  local pid keep=()
  for pid in "${PIDS[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  PIDS=("${keep[@]}")
}

stop() {  # stop PID (a background `timeout`), and forget it
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# run_pair PAIR [RECORD]: one seed -> leecher transfer; appends
# "pair<TAB>seconds<TAB>rss_kb<TAB>leecher_cpu<TAB>seed_cpu" to results unless RECORD is 0.
run_pair() {
  local pair=$1 record=${2:-1} port seed dl="$WORK/dl" rc=0 leech transport=tcp
  [[ $pair == *-utp ]] && transport=utp
  port=$(free_port)
  # `sync` after removing the last run's download, so that every run starts on a settled
  # filesystem: on an ext4 mounted with `discard` (as here) the discard of a just-deleted 1 GiB
  # file otherwise lands in the next run (starling's 0.6 s runs then took 1.5-1.7 s).
  rm -rf "$dl" "$WORK/ready" && mkdir "$dl" && sync
  if [[ $pair == starling* ]]; then
    timeout -k 5 "$TIMEOUT" "${PRIO[@]}" "$STARLING" seed "$TORRENT" "$BENCH_DIR" --skip-check \
      --listen "127.0.0.1:$port" --seed-time "$TIMEOUT" "--$transport-only" -q \
      >/dev/null 2>"$WORK/seed.err" &
    seed=$!; PIDS+=("$seed")
    wait_ready "$seed" "$port" "$transport" ||
      { cat "$WORK/seed.err" >&2; die "starling seed did not start"; }
    leech=("${PRIO[@]}" "$STARLING" download "$TORRENT" -o "$dl" --peer "127.0.0.1:$port"
           --listen 127.0.0.1:0 --json "--$transport-only")
  else
    timeout -k 5 "$TIMEOUT" "${PRIO[@]}" "$PY" "$WORK/lt_seed.py" "$TORRENT" "$BENCH_DIR" "$port" \
      "$WORK/ready" "$transport" >/dev/null 2>"$WORK/seed.err" &
    seed=$!; PIDS+=("$seed")
    wait_ready "$seed" "$port" "$transport" "$WORK/ready" ||
      { cat "$WORK/seed.err" >&2; die "libtorrent seed did not start"; }
    leech=("${PRIO[@]}" "$PY" "$WORK/lt_leech.py" "$TORRENT" "$dl" "$port" "$transport")
  fi
  "$PY" "$WORK/timed.py" "$WORK/timing" "$WORK/rss" "$WORK/leech.out" "${leech[@]}" &
  local timer=$!; PIDS+=("$timer")
  wait "$timer" || rc=$?
  forget "$timer"
  local seed_cpu=0
  [[ $pair == starling* ]] && seed_cpu=$(cpu_seconds "$seed")
  stop "$seed"
  if ((rc != 0)); then
    tail -n 20 "$WORK/leech.out" "$WORK/leech.out.err" >&2
    ((rc == 124)) && die "$pair leecher timed out after $TIMEOUT s"
    die "$pair leecher failed (exit $rc)"
  fi
  if [[ $pair == starling* ]]; then  # its last JSON line must report a whole download
    tail -n 1 "$WORK/leech.out" | grep -q "\"event\":\"complete\".*\"bytes\":${SIZE}[,}]" ||
      { tail -n 3 "$WORK/leech.out" >&2; die "starling's last JSON line is not a complete event"; }
    ((record)) &&
      tail -n 1 "$WORK/leech.out" | sed "s/^{/{\"pair\":\"$pair\",/" >>"$WORK/starling.json"
  fi
  cmp "$FILE" "$dl/$NAME" || die "$pair: downloaded file differs from the source"
  ((record)) && printf '%s\t%s\t%s\n' "$pair" "$(cat "$WORK/timing")" "$seed_cpu" >>"$RESULTS"
  echo "  $(cut -f1 "$WORK/timing" | xargs printf '%.3f') s$( ((record)) || echo ' (warm-up, not counted)')" >&2
  rm -rf "$dl"
}

# A copy, so that a rebuild during the benchmark cannot swap the binary between runs.
STARLING_DESC="$STARLING ($(date -r "$STARLING" '+%F %T'))"
cp "$STARLING" "$WORK/starling"
STARLING="$WORK/starling"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
TORRENT="$WORK/bench.torrent"
"$STARLING" create "$FILE" -o "$TORRENT" --piece-size 1m -q
"$PY" - "$TORRENT" "$SIZE" "$NAME" <<'EOF' || die "libtorrent does not load starling's .torrent"
import sys, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
assert ti.total_size() == int(sys.argv[2]) and ti.piece_length() == 1 << 20, "size/pieces"
assert ti.num_files() == 1 and ti.files().file_path(0) == sys.argv[3], "file name"
print("libtorrent loads the .torrent: %d pieces, info-hash %s" % (ti.num_pieces(), ti.info_hashes().v1),
      file=sys.stderr)
EOF

echo "warming the page cache..." >&2
cat "$FILE" >/dev/null

# Every other round runs the pairs in reverse order, so neither pair always goes first. With
# WARMUP=1 (the default) each timed run follows an untimed run of the same pair. On this VM
# starling's runs right after a libtorrent run, or after a few idle seconds, took 1.2-1.5 s
# against 0.6-0.7 s back to back, at twice the CPU (memory the guest has just freed seems to come
# back slowly; libtorrent's runs showed no such difference). The warm-up gives each client the
# state its own previous run leaves; WARMUP=0 shows the interleaved, cold numbers.
read -r -a forward <<<"$PAIRS"
backward=()
for ((k = ${#forward[@]} - 1; k >= 0; k--)); do backward+=("${forward[k]}"); done
for ((i = 1; i <= RUNS; i++)); do
  order=("${forward[@]}")
  ((i % 2 == 0)) && order=("${backward[@]}")
  for pair in "${order[@]}"; do
    echo "round $i/$RUNS: $pair -> $pair..." >&2
    ((WARMUP)) && run_pair "$pair" 0
    run_pair "$pair"
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$RESULTS" "$WORK/starling.json" "$SIZE" "$RUNS" "$LOAD_START" "$LOAD_END" \
  "$STARLING_DESC" "$PAIRS" <<'EOF'
import json, os, statistics, sys
import libtorrent as lt
results, sjson, size, runs, load_start, load_end, binary, pairs = sys.argv[1:9]
size = int(size)
gib = size / 2**30
rows = {}
for line in open(results):
    pair, sec, rss, cpu, seed_cpu = line.rstrip("\n").split("\t")
    rows.setdefault(pair, []).append((float(sec), int(rss), float(cpu), float(seed_cpu)))
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
              if l.startswith("model name")), "?")
print("Machine: %d cores (nproc), %s" % (os.cpu_count(), model))
print("starling: %s; python3-libtorrent %s" % (binary, lt.__version__))
print("Load average (1/5/15 min): %s at start, %s at end" % (load_start, load_end))
if os.environ.get("CHRT") == "1":
    print("Every seed and leecher ran under chrt -r 1 (SCHED_RR): other load could not preempt them")
print("Transfer: %d MiB random file, 1 MiB pieces, one seed -> one leecher over loopback, "
      "source page-cache warm; %s interleaved rounds; leecher process wall time"
      % (size >> 20, runs))
print()
print("| pair | transport | median s | min s | max s | MB/s (size / median) "
      "| leecher peak RSS MiB | leecher CPU s/GiB | seed CPU s/GiB |")
print("|---|---|---|---|---|---|---|---|---|")
med = {}
for pair in pairs.split():
    r = rows[pair]
    secs = [x[0] for x in r]
    med[pair] = statistics.median(secs)
    name = pair.replace("-utp", "")
    seed_cpu = ("%.2f" % (statistics.median(x[3] for x in r) / gib)
                if pair.startswith("starling") else "-")
    print("| %s -> %s | %s | %.3f | %.3f | %.3f | %.1f | %.1f | %.2f | %s |" % (
        name, name, "uTP" if pair.endswith("-utp") else "TCP", med[pair], min(secs), max(secs),
        size / med[pair] / 1e6, max(x[1] for x in r) / 1024,
        statistics.median(x[2] for x in r) / gib, seed_cpu))
print()


def ratio(a, b):
    if a in med and b in med:
        print("%s_rate / %s_rate = %.2f" % (a, b, med[b] / med[a]))


ratio("starling", "libtorrent")
ratio("starling-utp", "starling")
ratio("starling-utp", "libtorrent-utp")
for pair in pairs.split():
    if pair.startswith("starling"):
        own = [json.loads(l)["seconds"] for l in open(sjson) if json.loads(l)["pair"] == pair]
        print("(%s's own \"seconds\" in its complete event: median %.3f s)"
              % (pair, statistics.median(own)))
EOF
