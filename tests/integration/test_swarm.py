#!/usr/bin/env python3
"""Small starling swarms on loopback, every process bounded by timeouts and reaped.

1. One seed and three leechers that all know each other (--peer): all finish byte-identical.
2. No seed at all: leecher A starts with the even pieces, B with the odd ones, C with nothing.
   Nobody can finish without trading, so all three finishing byte-identical, with A and B both
   having uploaded, shows pieces flowing leecher to leecher in both directions.
"""

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, last_event, starling_path,  # noqa: E402
                             temp_dir, write_half, write_random)

DEADLINE = 90






PIECE = 64 * 1024


def run_leechers(starling, torrent, work, names, extra_peers, c):
    """Starts one leecher per name, all connected to each other and to extra_peers; returns
    {name: (exit code, output dir, final 'complete' event)}."""
    ports = {name: free_port() for name in names}
    procs = {}
    try:
        for name in names:
            peers = list(extra_peers)
            for other, port in ports.items():
                if other != name:
                    peers += ["--peer", "127.0.0.1:%d" % port]
            out = os.path.join(work, name)
            # Seeding on for a moment after completing lets slower leechers finish from faster ones.
            procs[name] = (out, subprocess.Popen(
                [starling, "download", torrent, "-o", out, "--listen", "127.0.0.1:%d" % ports[name],
                 "--json", "--seed-time", "3", "--timeout", str(DEADLINE)] + peers,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = {}
        for name, (out, proc) in procs.items():
            stdout, stderr = proc.communicate(timeout=DEADLINE + 10)
            c.equal(proc.returncode, 0, "%s exit code (stderr: %s)" % (name, stderr.strip()))
            results[name] = (proc.returncode, out, last_event(stdout, "complete"))
        return results
    finally:
        for _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()




def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-swarm-") as work:
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, 6 * 1024 * 1024 + 12345)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "64k", "-q"],
                       check=True, timeout=60)

        # 1. One seed, three leechers.
        seed_port = free_port()
        seed = subprocess.Popen([starling, "seed", torrent, os.path.dirname(data), "--listen",
                                 "127.0.0.1:%d" % seed_port, "--seed-time", str(DEADLINE), "-q"])
        try:
            time.sleep(0.3)
            results = run_leechers(starling, torrent, os.path.join(work, "with-seed"),
                                   ["l1", "l2", "l3"], ["--peer", "127.0.0.1:%d" % seed_port], c)
            for name, (_, out, complete) in results.items():
                c.check(filecmp.cmp(data, os.path.join(out, "payload.bin"), shallow=False),
                        "%s has the identical file" % name)
                c.check(complete is not None, "%s reported complete" % name)
        finally:
            seed.terminate()
            try:
                seed.wait(timeout=10)
            except subprocess.TimeoutExpired:
                seed.kill()
                seed.wait()

        # 2. No seed: halves must be traded.
        trade = os.path.join(work, "trade")
        write_half(data, os.path.join(trade, "a", "payload.bin"), PIECE, keep_even=True)
        write_half(data, os.path.join(trade, "b", "payload.bin"), PIECE, keep_even=False)
        results = run_leechers(starling, torrent, trade, ["a", "b", "c"], [], c)
        for name, (_, out, complete) in results.items():
            c.check(filecmp.cmp(data, os.path.join(out, "payload.bin"), shallow=False),
                    "trading: %s has the identical file" % name)
        for name in ("a", "b"):
            complete = results[name][2]
            c.check(complete is not None and complete.get("uploaded", 0) > 0,
                    "trading: %s uploaded to the others before completing" % name, repr(complete))
    return c.summary("test_swarm")


if __name__ == "__main__":
    sys.exit(main())
