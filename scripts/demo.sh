#!/usr/bin/env bash
# make demo: what starling can do today, on a scratch folder that is removed afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
starling="$root/build/bin/starling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

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

printf '\nDownloading and seeding between peers come with the transfer core (issue 3); see README.md.\n'
