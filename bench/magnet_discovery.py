#!/usr/bin/env python3
"""Time to a magnet's metadata: a leecher that knows only the seed's DHT node (found through the
DHT, BEP 5) against one given the seed as --peer (the reference), both on loopback, RUNS each,
interleaved; prints medians and the ratio. Every process is bounded by a timeout.

  /usr/bin/python3 bench/magnet_discovery.py --starling build/bin/starling [--runs 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from interop_common import free_port, json_events, lt, stop_process, temp_dir, write_random  # noqa


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starling", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    starling = os.path.abspath(args.starling)
    results = {"dht": [], "peer": []}
    with temp_dir("starling-magnet-bench-") as work:
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, 8 * 1024 * 1024)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([starling, "create", data, "-o", torrent, "-q"], check=True, timeout=60)
        magnet = "magnet:?xt=urn:btih:%s" % lt.torrent_info(torrent).info_hash()
        port = free_port()
        seed = subprocess.Popen(["timeout", "600", starling, "seed", torrent,
                                 os.path.join(work, "seed"), "--listen", "127.0.0.1:%d" % port,
                                 "--skip-check", "-q"], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            for i in range(args.runs):
                for mode in ("peer", "dht"):
                    flags = (["--peer", "127.0.0.1:%d" % port, "--no-dht"] if mode == "peer" else
                             ["--dht-bootstrap", "127.0.0.1:%d" % port])
                    out = os.path.join(work, "%s-%d" % (mode, i))
                    r = subprocess.run([starling, "download", magnet, "-o", out, "--listen",
                                        "127.0.0.1:0", "--json", "--timeout", "60", *flags],
                                       capture_output=True, text=True, timeout=80)
                    meta = [e for e in json_events(r.stdout) if e.get("event") == "metadata"]
                    if r.returncode != 0 or not meta:
                        print("run failed:", mode, r.stderr[-300:], file=sys.stderr)
                        continue
                    results[mode].append(meta[0]["seconds"])
        finally:
            stop_process(seed)
    print("| leecher knows | runs | median s to metadata | min | max |")
    print("|---|---|---|---|---|")
    for mode, label in (("peer", "the seed as --peer (ref)"), ("dht", "only the seed's DHT node")):
        v = results[mode]
        if v:
            print("| %s | %d | %.3f | %.3f | %.3f |" % (label, len(v), statistics.median(v), min(v),
                                                       max(v)))
    if results["peer"] and results["dht"]:
        print("ratio dht/peer: %.2f" % (statistics.median(results["dht"]) /
                                        statistics.median(results["peer"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
