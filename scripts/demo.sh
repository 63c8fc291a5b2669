#!/usr/bin/env bash
# make demo: what starling can do today, on a scratch folder that is removed afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
starling="$root/build/bin/starling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# same_as_seed LEECHER [HOW]: says whether $work/LEECHER/album is the seed's data.
same_as_seed() {
  if diff -r "$work/album" "$work/$1/album" >/dev/null; then
    echo "$1: identical to the seed's data${2:+ ($2)}"
  else
    echo "$1: DIFFERS"
  fi
}

step "A small multi-file tree to share"
mkdir -p "$work/album/disc 1" "$work/album/disc 2"
head -c 3000000 /dev/urandom > "$work/album/disc 1/track01.flac"
head -c 2500000 /dev/urandom > "$work/album/disc 2/track02.flac"
echo "liner notes" > "$work/album/notes.txt"
find "$work/album" -type f -printf '%s\t%P\n'

step "Make a .torrent (parallel hashing; deterministic with --no-date)"
run "$starling" create "$work/album" -o "$work/album.torrent" --no-date \
  -t http://127.0.0.1:6969/announce -t udp://127.0.0.1:6969 -w http://127.0.0.1:8080/files/

step "What it holds"
run "$starling" info "$work/album.torrent"

if /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
  step "libtorrent computes the same info-hash"
  /usr/bin/python3 -c 'import libtorrent as lt, sys; print("libtorrent:", lt.torrent_info(sys.argv[1]).info_hashes().v1)' "$work/album.torrent"
fi

step "Hash-check the data"
run "$starling" verify "$work/album.torrent" "$work"

step "Flip one byte inside track02.flac and check again: exactly one piece goes bad"
cp "$work/album/disc 2/track02.flac" "$work/track02.orig"
printf '\xff' | dd of="$work/album/disc 2/track02.flac" bs=1 seek=100000 conv=notrunc status=none
set +e
run "$starling" verify --json "$work/album.torrent" "$work"
echo "exit code: $? (1 = some pieces are bad)"

step "A hostile or broken .torrent gets a clear reason and exit code 2"
head -c 200 "$work/album.torrent" > "$work/truncated.torrent"
run "$starling" info "$work/truncated.torrent"
echo "exit code: $?"
set -e

step "Magnet links"
run "$starling" info "magnet:?xt=urn:btih:3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4&dn=Big+Buck+Bunny&tr=udp%3A%2F%2Ftracker.example%3A1337"

step "A local swarm on loopback: one seed, two leechers that also trade with each other"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
seed_port=$(port); l1_port=$(port); l2_port=$(port)
# Put back the copy saved before the byte was flipped, so the seed's data is complete again.
cp "$work/track02.orig" "$work/album/disc 2/track02.flac"
run "$starling" seed "$work/album.torrent" "$work" --listen 127.0.0.1:$seed_port --seed-time 30 -q &
seed_pid=$!
sleep 0.5
"$starling" download "$work/album.torrent" -o "$work/leecher1" --listen 127.0.0.1:$l1_port \
  --peer 127.0.0.1:$seed_port --peer 127.0.0.1:$l2_port --seed-time 2 &
leecher1=$!
"$starling" download "$work/album.torrent" -o "$work/leecher2" --listen 127.0.0.1:$l2_port \
  --peer 127.0.0.1:$seed_port --peer 127.0.0.1:$l1_port --seed-time 2 &
leecher2=$!
wait $leecher1 $leecher2
kill $seed_pid 2>/dev/null || true
wait $seed_pid 2>/dev/null || true
for i in 1 2; do
  same_as_seed "leecher$i" ""
done

step "Speed: 256 MiB over loopback TCP, 1 MiB pieces, with its peak memory (bench/transfer_bench.sh compares it with libtorrent)"
mkdir -p "$work/big" "$work/leecher-big"
head -c $((256 << 20)) /dev/urandom >"$work/big/random.bin"
"$starling" create "$work/big/random.bin" -o "$work/big.torrent" --piece-size 1m -q
seed_port=$(port)
run "$starling" seed "$work/big.torrent" "$work/big" --skip-check --listen 127.0.0.1:$seed_port \
  --tcp-only --seed-time 30 -q &
seed_pid=$!
sleep 0.5
run /usr/bin/time -f "peak memory of the download: %M KiB" "$starling" download \
  "$work/big.torrent" -o "$work/leecher-big" --peer 127.0.0.1:$seed_port --listen 127.0.0.1:0 \
  --tcp-only
kill $seed_pid 2>/dev/null || true
wait $seed_pid 2>/dev/null || true
if cmp -s "$work/big/random.bin" "$work/leecher-big/random.bin"; then
  echo "leecher-big: identical to the seed's data"
else
  echo "leecher-big: DIFFERS"
fi
rm -rf "$work/big" "$work/leecher-big"

step "The same swarm found through a tracker: starling tracker, no --peer anywhere"
tracker_port=$(port)
"$starling" tracker --http 127.0.0.1:$tracker_port --interval 10 >/dev/null &
tracker_pid=$!
run "$starling" create "$work/album" -t "http://127.0.0.1:$tracker_port/announce" \
  -o "$work/tracked.torrent" --piece-size 64k -q
run "$starling" seed "$work/tracked.torrent" "$work" --listen 127.0.0.1:0 --seed-time 30 -q &
seed_pid=$!
sleep 1
run "$starling" info "$work/tracked.torrent" --scrape | grep scrape
for i in 3 4; do
  "$starling" download "$work/tracked.torrent" -o "$work/leecher$i" --listen 127.0.0.1:0 \
    --max-up 4m --seed-time 2 &
  eval "leecher$i=\$!"
done
wait $leecher3 $leecher4
kill $seed_pid $tracker_pid 2>/dev/null || true
wait $seed_pid $tracker_pid 2>/dev/null || true
for i in 3 4; do
  same_as_seed "leecher$i" "peers from the tracker"
done

step "uTP only (BEP 29 over UDP, LEDBAT congestion control): the same album"
seed_port=$(port)
run "$starling" seed "$work/album.torrent" "$work" --listen 127.0.0.1:$seed_port --utp-only \
  --seed-time 30 -q &
seed_pid=$!
sleep 0.5
run "$starling" download "$work/album.torrent" -o "$work/leecher5" --listen 127.0.0.1:0 \
  --peer 127.0.0.1:$seed_port --utp-only
kill $seed_pid 2>/dev/null || true
wait $seed_pid 2>/dev/null || true
same_as_seed "leecher5" "over uTP"

step "A magnet link, no .torrent and no tracker: peers from a DHT node (BEP 5), metadata from them (BEP 9)"
seed_port=$(port)
run "$starling" seed "$work/album.torrent" "$work" --listen 127.0.0.1:$seed_port --seed-time 30 -q &
seed_pid=$!
sleep 0.5
info_hash=$("$starling" info "$work/album.torrent" --json | sed -n 's/.*"info_hash": *"\([0-9a-f]\{40\}\)".*/\1/p')
run "$starling" download "magnet:?xt=urn:btih:$info_hash&dn=album" -o "$work/leecher6" \
  --listen 127.0.0.1:0 --dht-bootstrap 127.0.0.1:$seed_port --timeout 30
kill $seed_pid 2>/dev/null || true
wait $seed_pid 2>/dev/null || true
same_as_seed "leecher6" "found through the DHT"

# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 10 s).
wait_port() {
  for _ in $(seq 100); do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

if command -v transmission-remote >/dev/null; then
  step "starling daemon, driven by Transmission's own remote (transmission-remote, RPC on loopback)"
  rpc_port=$(port); seed_port=$(port)
  "$starling" seed "$work/album.torrent" "$work" --listen 127.0.0.1:$seed_port --seed-time 60 -q &
  seed_pid=$!
  "$starling" daemon --rpc 127.0.0.1:$rpc_port --config-dir "$work/daemon/config" \
    --download-dir "$work/daemon/downloads" --listen 127.0.0.1:0 --peer 127.0.0.1:$seed_port \
    --no-dht >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  wait_port $rpc_port
  run transmission-remote 127.0.0.1:$rpc_port -a "$work/album.torrent"
  for _ in $(seq 100); do
    transmission-remote 127.0.0.1:$rpc_port -l | grep -q '100%' && break
    sleep 0.2
  done
  run transmission-remote 127.0.0.1:$rpc_port -l
  echo "\$ curl -s http://127.0.0.1:$rpc_port/metrics | grep ^starling_torrents"
  curl -s "http://127.0.0.1:$rpc_port/metrics" | grep '^starling_torrents' || true
  kill $daemon_pid $seed_pid 2>/dev/null || true
  wait $daemon_pid $seed_pid 2>/dev/null || true
  if diff -r "$work/album" "$work/daemon/downloads/album" >/dev/null; then
    echo "daemon: identical to the seed's data"
  else
    echo "daemon: DIFFERS"
  fi
fi

step "A datacenter deploy in miniature: two agents on loopback, one signed job, verified copies (the origin super-seeds, BEP 16: it sends each piece once, the hosts trade the rest)"
head -c 32 /dev/urandom | base64 > "$work/secret"
: > "$work/fleet.txt"
agent_pids=()
for i in 1 2; do
  api_port=$(port)
  mkdir -p "$work/host$i"
  "$starling" agent --listen 127.0.0.1:$api_port --peer-listen 127.0.0.1:0 --root "$work/host$i" \
    --secret-file "$work/secret" >/dev/null 2>&1 &
  agent_pids+=($!)
  echo "127.0.0.1:$api_port rack$i" >> "$work/fleet.txt"
  wait_port $api_port
done
run "$starling" deploy "$work/album" --hosts "$work/fleet.txt" --secret-file "$work/secret" \
  --dest releases/1 --seed-after 1 --tracker-listen 127.0.0.1:0 --peer-listen 127.0.0.1:0 \
  --origin-address 127.0.0.1 --timeout 60
kill "${agent_pids[@]}" 2>/dev/null || true
wait "${agent_pids[@]}" 2>/dev/null || true
for i in 1 2; do
  if diff -r "$work/album" "$work/host$i/releases/1/album" >/dev/null; then
    echo "host$i: identical to the artifact"
  else
    echo "host$i: DIFFERS"
  fi
done

step "A simulated flash crowd: 1,000 peers on the engine's own picker and choker"
run "$starling" sim --peers 1000 --pieces 200 --piece-size 256k --up 1m --down 8m --seed-up 4m

printf '\nMore: starling download --help, starling seed --help; README.md has the tour.\n'
