#!/usr/bin/env bash
# Benchmark: make a .torrent of a 1 GiB file with starling, mktorrent and libtorrent.
#
# Times RUNS rounds (default 5) of, interleaved in each round:
#   starling create FILE -o X --no-date --piece-size 1m
#   mktorrent -t 2 -l 20 -a http://127.0.0.1/announce -o Y FILE
#   libtorrent (python3-libtorrent via /usr/bin/python3): create_torrent, v1 only, 1 MiB pieces,
#     set_piece_hashes, bencode, write
# with wall seconds from a monotonic clock (Python's time.perf_counter around the process) and
# peak RSS from `/usr/bin/time -v`, on a page-cache-warm file. Prints a markdown table and checks
# that the three tools give the same info-hash (a difference is printed, not fatal: it only
# means a tool put extra fields in the info dictionary).
#
# Environment:
#   STARLING   starling binary (default build/bin/starling)
#   BENCH_DIR  cache folder for the 1 GiB random file (default /tmp/starling-bench; reused)
#   RUNS       rounds (default 5)
# Needs mktorrent, /usr/bin/python3 with python3-libtorrent, and /usr/bin/time; installs nothing.
set -euo pipefail

STARLING=${STARLING:-build/bin/starling}
BENCH_DIR=${BENCH_DIR:-/tmp/starling-bench}
RUNS=${RUNS:-5}
PY=/usr/bin/python3
SIZE=$((1024 * 1024 * 1024))
TRACKER=http://127.0.0.1/announce

die() { echo "create_bench: $*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ -x "$STARLING" ]] || die "no starling binary at '$STARLING' (build it, or set STARLING=path)"
command -v mktorrent >/dev/null || die "mktorrent is missing (Debian: apt-get install mktorrent)"
[[ -x "$PY" ]] || die "$PY is missing"
"$PY" -c 'import libtorrent' 2>/dev/null ||
  die "python3-libtorrent is missing for $PY (Debian: apt-get install python3-libtorrent)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian: apt-get install time)"
STARLING=$(readlink -f "$STARLING")

mkdir -p "$BENCH_DIR"
FILE="$BENCH_DIR/random-1GiB.bin"
if [[ ! -f "$FILE" || $(stat -c %s "$FILE") -ne $SIZE ]]; then
  echo "making $FILE (1 GiB of random bytes)..." >&2
  head -c "$SIZE" /dev/urandom >"$FILE.tmp"
  mv "$FILE.tmp" "$FILE"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/starling-create-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# libtorrent's side: the same work as the other two (v1 only: no SHA-256 tree, no pad files).
cat >"$WORK/lt_create.py" <<'EOF'
import os, sys
import libtorrent as lt
src, out, tracker = sys.argv[1], sys.argv[2], sys.argv[3]
fs = lt.file_storage()
lt.add_files(fs, src)
ct = lt.create_torrent(fs, 1 << 20, flags=lt.create_torrent.v1_only)
ct.add_tracker(tracker)
lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(src)))
with open(out, "wb") as f:
    f.write(lt.bencode(ct.generate()))
EOF

# Runs one command under /usr/bin/time -v; appends "tool<TAB>seconds<TAB>max_rss_kb" to results.
cat >"$WORK/timed.py" <<'EOF'
import re, subprocess, sys, time
results, tool, rss_file = sys.argv[1], sys.argv[2], sys.argv[3]
cmd = ["/usr/bin/time", "-v", "-o", rss_file] + sys.argv[4:]
start = time.perf_counter()
r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode(errors="replace"))
    sys.exit("create_bench: %s failed (exit %d): %s" % (tool, r.returncode, " ".join(sys.argv[4:])))
m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(rss_file).read())
with open(results, "a") as f:
    f.write("%s\t%.6f\t%s\n" % (tool, seconds, m.group(1) if m else "0"))
EOF

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
X="$WORK/starling.torrent"
Y="$WORK/mktorrent.torrent"
Z="$WORK/libtorrent.torrent"

echo "warming the page cache..." >&2
cat "$FILE" >/dev/null

for ((i = 1; i <= RUNS; i++)); do
  echo "round $i/$RUNS..." >&2
  rm -f "$X" "$Y" "$Z"  # mktorrent refuses to overwrite
  "$PY" "$WORK/timed.py" "$RESULTS" starling "$WORK/rss" \
    "$STARLING" create "$FILE" -o "$X" --no-date --piece-size 1m
  "$PY" "$WORK/timed.py" "$RESULTS" mktorrent "$WORK/rss" \
    mktorrent -t 2 -l 20 -a "$TRACKER" -o "$Y" "$FILE"
  "$PY" "$WORK/timed.py" "$RESULTS" libtorrent "$WORK/rss" \
    "$PY" "$WORK/lt_create.py" "$FILE" "$Z" "$TRACKER"
done

# A Python start-up and `import libtorrent` cost, to read the libtorrent row fairly.
"$PY" "$WORK/timed.py" "$WORK/startup.tsv" startup "$WORK/rss" "$PY" -c 'import libtorrent'

"$PY" - "$RESULTS" "$WORK/startup.tsv" "$X" "$Y" "$Z" "$SIZE" "$RUNS" <<'EOF'
import hashlib, os, statistics, sys
results, startup, x, y, z, size, runs = sys.argv[1:8]
size = int(size)
rows = {}
for line in open(results):
    tool, sec, rss = line.split("\t")
    rows.setdefault(tool, []).append((float(sec), int(rss)))
startup_s = float(open(startup).read().split("\t")[1])

def info_hash(path):
    data = open(path, "rb").read()
    def skip(p):  # end of the bencoded value at p
        c = data[p:p + 1]
        if c == b"i":
            return data.index(b"e", p) + 1
        if c in (b"l", b"d"):
            p += 1
            while data[p:p + 1] != b"e":
                p = skip(p)
            return p + 1
        colon = data.index(b":", p)
        return colon + 1 + int(data[p:colon])
    p = 1
    while data[p:p + 1] != b"e":
        k_end = skip(p)
        key = data[data.index(b":", p) + 1:k_end]
        v_end = skip(k_end)
        if key == b"info":
            return hashlib.sha1(data[k_end:v_end]).hexdigest()
        p = v_end
    raise ValueError("no info dict in " + path)

model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
              if l.startswith("model name")), "?")
print("Machine: %d cores, %s" % (os.cpu_count(), model))
print("Input: 1 GiB random file, page cache warm, 1 MiB pieces; %s interleaved rounds" % runs)
print()
print("| tool | median s | min s | max s | GB/s (1 GiB / median) | peak RSS MiB |")
print("|---|---|---|---|---|---|")
med = {}
for tool in ("starling", "mktorrent", "libtorrent"):
    secs = [s for s, _ in rows[tool]]
    med[tool] = statistics.median(secs)
    print("| %s | %.3f | %.3f | %.3f | %.2f | %.1f |" % (
        tool, med[tool], min(secs), max(secs), size / med[tool] / 1e9,
        max(r for _, r in rows[tool]) / 1024))
print()
print("mktorrent_median / starling_median = %.2f" % (med["mktorrent"] / med["starling"]))
print("libtorrent_median / starling_median = %.2f" % (med["libtorrent"] / med["starling"]))
print("(libtorrent's time includes Python start-up and `import libtorrent`: %.3f s measured alone;"
      " without it the ratio would be %.2f)"
      % (startup_s, (med["libtorrent"] - startup_s) / med["starling"]))
print()
hashes = {t: info_hash(p) for t, p in (("starling", x), ("mktorrent", y), ("libtorrent", z))}
if len(set(hashes.values())) == 1:
    print("info-hash: all three agree: %s" % hashes["starling"])
else:
    print("info-hash: DIFFERENT (a tool added fields to the info dict?):")
    for t, h in hashes.items():
        print("  %-10s %s" % (t, h))
EOF
