#!/usr/bin/env python3
"""Dynamic parallel download from HTTP mirrors (Rodriguez & Biersack, 2000), reproduced with BEP 19
web seeds on loopback. Four Range-capable servers (tests/integration/web_seed_server.py, one token
bucket per server, a fixed per-request latency standing in for the round trip) hold one file of
80 pieces.

  (a) no shared bottleneck: servers at 2, 4, 6, 8 MiB/s. Completion time against the optimum
      F / sum(rates) (no server ever idle), and the bytes each server served (should be
      proportional to its rate). starling as is, with --no-pipelining, with --no-end-game;
      aria2c on the same four URLs; libtorrent's web seeds (python3-libtorrent) with --libtorrent.
  (b) shared bottleneck: the same servers, a download cap below the fastest server
      (--max-down / aria2c --max-overall-download-limit): completion against F / cap.

Usage: /usr/bin/python3 bench/webseed_bench.py --starling build/bin/starling [--runs 3]
           [--piece-size 1] [--latency 0.05] [--cap 6] [--libtorrent] [--plot docs/x.png]
Prints a Markdown table (medians over --runs, runs interleaved) and writes the plot.
Every process is bounded by a timeout; every server is stopped at the end.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from web_seed_server import WebSeedServer  # noqa: E402

MIB = 1024 * 1024
RATES = [2, 4, 6, 8]  # MiB/s
PIECES = 80
DEADLINE = 180


def write_random(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 4 * MIB)
            f.write(os.urandom(n))
            left -= n


class Mirrors:
    def __init__(self, root, latency):
        self.root = root
        self.latency = latency
        self.servers = []

    def start(self):
        # One loopback address per server: aria2c counts connections per host name.
        self.servers = [WebSeedServer(self.root, rate=r * MIB, latency=self.latency,
                                      host="127.0.0.%d" % (i + 1)).start()
                        for i, r in enumerate(RATES)]
        return self

    def stop(self):
        for s in self.servers:
            s.stop()

    def served(self):
        return [s.bytes_sent for s in self.servers]


def run_starling(starling, torrent, out, urls, flags):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [starling, "download", torrent, "-o", out, "--listen", "127.0.0.1:0", "-q",
           "--timeout", str(DEADLINE - 10)]
    for u in urls:
        cmd += ["--web-seed", u]
    start = time.monotonic()
    r = subprocess.run(cmd + flags, capture_output=True, text=True, timeout=DEADLINE)
    seconds = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError("starling failed: %s" % r.stderr[-500:])
    return seconds


def run_aria2c(out, urls, cap):
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["aria2c", "-d", out, "-o", "payload.bin", "--split=%d" % len(urls),
           "--max-connection-per-server=1", "--min-split-size=1M", "--file-allocation=none",
           "--allow-overwrite=true", "--console-log-level=warn", "--summary-interval=0",
           "--download-result=hide", "--check-certificate=false"]
    if cap:
        cmd.append("--max-overall-download-limit=%dM" % cap)
    start = time.monotonic()
    r = subprocess.run(cmd + urls, capture_output=True, text=True, timeout=DEADLINE)
    seconds = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError("aria2c failed: %s" % (r.stdout + r.stderr)[-500:])
    return seconds


def run_libtorrent(torrent, out, cap):
    import libtorrent as lt
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    settings = {"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False}
    if cap:
        settings["download_rate_limit"] = cap * MIB
    session = lt.session(settings)
    start = time.monotonic()
    handle = session.add_torrent({"ti": lt.torrent_info(torrent), "save_path": out})
    while not handle.status().is_seeding:
        if time.monotonic() - start > DEADLINE:
            raise RuntimeError("libtorrent did not finish")
        time.sleep(0.02)
    seconds = time.monotonic() - start
    del session
    return seconds


def same(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        while True:
            p, q = x.read(MIB), y.read(MIB)
            if p != q:
                return False
            if not p:
                return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--starling", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--piece-size", type=int, default=1, help="MiB")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    ap.add_argument("--cap", type=int, default=6, help="MiB/s, experiment (b)")
    ap.add_argument("--libtorrent", action="store_true")
    ap.add_argument("--plot", default="")
    args = ap.parse_args()
    starling = os.path.abspath(args.starling)
    size = PIECES * args.piece_size * MIB
    work = tempfile.mkdtemp(prefix="starling-webseed-bench-")
    try:
        data = os.path.join(work, "data")
        os.makedirs(data)
        payload = os.path.join(data, "payload.bin")
        write_random(payload, size)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([starling, "create", payload, "-o", torrent, "--piece-size",
                        "%dm" % args.piece_size, "-q"], check=True, timeout=120)
        # The servers see the torrent only through url-list for libtorrent; starling and
        # aria2c get the same four URLs on the command line.
        lt_torrent = os.path.join(work, "payload-ws.torrent")

        configs = [
            ("a", "starling", []),
            ("a", "starling --no-pipelining", ["--no-pipelining"]),
            ("a", "starling --no-end-game", ["--no-end-game"]),
            ("a", "aria2c", None),
            ("b", "starling --max-down %dm" % args.cap, ["--max-down", "%dm" % args.cap]),
            ("b", "starling --max-down %dm --no-pipelining" % args.cap,
             ["--max-down", "%dm" % args.cap, "--no-pipelining"]),
            ("b", "aria2c --max-overall-download-limit=%dM" % args.cap, None),
        ]
        if args.libtorrent:
            configs.insert(4, ("a", "libtorrent", "lt"))
        results = {name: [] for _, name, _ in configs}
        shares = {name: [] for _, name, _ in configs}
        for run in range(args.runs):
            for experiment, name, flags in configs:
                cap = args.cap if experiment == "b" else 0
                mirrors = Mirrors(data, args.latency).start()
                urls = [s.url + "payload.bin" for s in mirrors.servers]
                out = os.path.join(work, "out")
                try:
                    if flags == "lt":
                        subprocess.run([starling, "create", payload, "-o", lt_torrent,
                                        "--piece-size", "%dm" % args.piece_size, "-q"] +
                                       sum((["-w", u] for u in urls), []), check=True,
                                       timeout=120)
                        seconds = run_libtorrent(lt_torrent, out, cap)
                    elif flags is None:
                        seconds = run_aria2c(out, urls, cap)
                    else:
                        seconds = run_starling(starling, torrent, out, urls, flags)
                    served = mirrors.served()
                finally:
                    mirrors.stop()
                if not same(payload, os.path.join(out, "payload.bin")):
                    raise RuntimeError("%s: output differs" % name)
                results[name].append(seconds)
                shares[name].append(served)
                print("run %d %-45s %.2f s served %s MiB" %
                      (run + 1, name, seconds, [round(b / MIB, 1) for b in served]),
                      file=sys.stderr, flush=True)
        optimum_a = size / (sum(RATES) * MIB)
        optimum_b = size / (min(args.cap, sum(RATES)) * MIB)
        print("\nF = %d MiB (%d pieces of %d MiB), server rates %s MiB/s, latency %.0f ms per "
              "request, %d runs\n" % (size // MIB, PIECES, args.piece_size, RATES,
                                     args.latency * 1000, args.runs))
        print("| exp | client | median s | optimum s | ratio | runs s | share served per "
              "server (2/4/6/8 MiB/s; ideal 10/20/30/40 %) | overhead |")
        print("|---|---|---|---|---|---|---|---|")
        rows = []
        for experiment, name, _ in configs:
            med = statistics.median(results[name])
            optimum = optimum_a if experiment == "a" else optimum_b
            total = [sum(s) for s in shares[name]]
            share = [statistics.median(s[i] / t for s, t in zip(shares[name], total))
                     for i in range(len(RATES))]
            overhead = statistics.median(t / size - 1 for t in total)
            rows.append((experiment, name, med, optimum, share))
            print("| %s | %s | %.2f | %.2f | **%.2f×** | %s | %s | %+.1f %% |" %
                  (experiment, name, med, optimum, med / optimum,
                   " ".join("%.2f" % s for s in results[name]),
                   " / ".join("%.0f" % (100 * x) for x in share), 100 * overhead))
        if args.plot:
            plot(rows, args.plot)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = ["%s: %s" % (r[0], r[1].replace(" --", "\n--")) for r in rows]
    ratios = [r[2] / r[3] for r in rows]
    colors = ["#4c72b0" if r[0] == "a" else "#dd8452" for r in rows]
    left.barh(range(len(rows)), ratios, color=colors)
    left.axvline(1.0, color="black", linewidth=0.8)
    left.axvline(1.1, color="grey", linewidth=0.8, linestyle="--")
    left.set_yticks(range(len(rows)))
    left.set_yticklabels(names, fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("completion / optimum (a: F/Σrates, b: F/cap)")
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        right.bar([x + i * width for x in range(len(RATES))], [100 * s for s in r[4]], width,
                  label=r[1], color=plt.cm.tab10(i))
    right.plot([x + 0.4 - width / 2 for x in range(len(RATES))],
               [100 * r / sum(RATES) for r in RATES], "k_", markersize=30, label="∝ rate")
    right.set_xticks([x + 0.4 - width / 2 for x in range(len(RATES))])
    right.set_xticklabels(["%d MiB/s" % r for r in RATES])
    right.set_ylabel("% of bytes served")
    right.legend(fontsize=6)
    fig.suptitle("Web seeds: dynamic parallel download from 4 mirrors (80 pieces)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
