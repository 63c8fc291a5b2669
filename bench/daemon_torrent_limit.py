#!/usr/bin/env python3
"""Per-torrent upload limits of `starling daemon`: how close a leecher's rate comes to the
torrent's `uploadLimit`, with an unlimited torrent of the same daemon as the reference.

Method: one daemon on loopback (TCP only, no DHT), seeding one torrent per limit (random data,
64 KiB pieces, sized for --seconds at the limit); each torrent gets `torrent-set uploadLimit L,
uploadLimited true` over RPC. A `starling download --peer DAEMON` leecher fetches it; the rate is
size / wall time of the leecher process (start-up and hash checks included, so slightly low).
Each limit is measured --runs times; medians are reported with measured / target.

Usage: bench/daemon_torrent_limit.py --starling build/starling [--limits 100,200,400] [--runs 3]
"""

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rpc:
    def __init__(self, port):
        self.url = "http://127.0.0.1:%d/transmission/rpc" % port
        self.headers = {}

    def call(self, method, arguments):
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(2):
            try:
                with urllib.request.urlopen(urllib.request.Request(self.url, body, self.headers),
                                            timeout=30) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 409:
                    raise
                self.headers["X-Transmission-Session-Id"] = e.headers["X-Transmission-Session-Id"]
        raise RuntimeError("no session id")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starling", required=True)
    parser.add_argument("--limits", default="100,200,400", help="kB/s (1000 bytes), comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="ideal time per download")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    limits = [int(x) for x in args.limits.split(",")]
    work = tempfile.mkdtemp(prefix="starling-limit-bench-")
    daemon = None
    try:
        seed = os.path.join(work, "seed")
        os.makedirs(seed)
        torrents = {}
        for limit in limits + [0]:
            size = int((limit or 1000) * 1000 * args.seconds)
            name = "limit%d.bin" % limit
            with open(os.path.join(seed, name), "wb") as f:
                f.write(os.urandom(size))
            path = os.path.join(work, name + ".torrent")
            subprocess.run([args.starling, "create", os.path.join(seed, name), "-o", path,
                            "--piece-size", "64k", "-q"], check=True, timeout=60)
            torrents[limit] = (path, size, name)
        rpc_port, listen_port = free_port(), free_port()
        log = open(os.path.join(work, "daemon.log"), "w")
        daemon = subprocess.Popen([args.starling, "daemon", "--config-dir",
                                   os.path.join(work, "config"), "--download-dir", seed,
                                   "--no-dht", "--tcp-only", "--rpc", "127.0.0.1:%d" % rpc_port,
                                   "--listen", "127.0.0.1:%d" % listen_port],
                                  stdout=log, stderr=subprocess.STDOUT)
        rpc = Rpc(rpc_port)
        for _ in range(100):
            try:
                rpc.call("session-get", {})
                break
            except OSError:
                time.sleep(0.1)
        ids = {}
        for limit, (path, _, _) in torrents.items():
            with open(path, "rb") as f:
                added = rpc.call("torrent-add", {"metainfo": base64.b64encode(f.read()).decode()})
            ids[limit] = added["arguments"]["torrent-added"]["id"]
            if limit:
                rpc.call("torrent-set", {"ids": [ids[limit]], "uploadLimit": limit,
                                         "uploadLimited": True})
        for _ in range(300):
            got = rpc.call("torrent-get", {"fields": ["status"]})["arguments"]["torrents"]
            if all(t["status"] == 6 for t in got):
                break
            time.sleep(0.1)
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        print("date %s UTC, load %s, %d runs, ideal %.1f s per download" % (
            time.strftime("%Y-%m-%d %H:%M", time.gmtime()), load, args.runs, args.seconds))
        print("| limit kB/s | size MB | median s | median kB/s | measured / target |")
        print("|---|---|---|---|---|")
        for limit in limits + [0]:
            path, size, name = torrents[limit]
            times = []
            for run in range(args.runs):
                out = os.path.join(work, "leech-%d-%d" % (limit, run))
                start = time.monotonic()
                subprocess.run([args.starling, "download", path, "-o", out, "--no-dht",
                                "--tcp-only", "--listen", "127.0.0.1:%d" % free_port(), "--peer",
                                "127.0.0.1:%d" % listen_port, "--timeout", "120", "-q"],
                               check=True, timeout=180)
                times.append(time.monotonic() - start)
                shutil.rmtree(out, ignore_errors=True)
            median = statistics.median(times)
            rate = size / median / 1000.0
            print("| %s | %.2f | %.2f | %.0f | %s |" % (
                limit or "none (reference)", size / 1e6, median, rate,
                "%.2f" % (rate / limit) if limit else "-"), flush=True)
    finally:
        if daemon and daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
