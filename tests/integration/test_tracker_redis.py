#!/usr/bin/env python3
"""Two `starling tracker --store redis://` replicas share one swarm; one dies mid-transfer.

One redis-server (a private one, free loopback port, temp dir, no persistence) and two tracker
replicas A and B on it. The seed's torrent lists A only, so the seed never talks to B; the
leechers' torrent has A and B in ONE tier (BEP 12; same info dict, so the same info-hash).
  1. The seed (upload capped, so the transfer takes seconds) and three leechers start; A is
     killed with SIGKILL mid-transfer. Every leecher must still finish byte-identical.
  2. After the leechers have left, a late leecher joins: A refuses connections, B answers, and
     B's peer list must hold the seed, which only ever announced to A: it came from Redis.
  3. Redis itself dies: B answers an announce with a failure reason (clear text), logs it and
     keeps serving; no crash, no hang.
Skips (exit 0 with SKIP) when redis-server is not installed. Every process is bounded by
`timeout` and killed at the end; everything listens on 127.0.0.1 only; < 60 s in all.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, bdecode_torrent, bencode, free_port,  # noqa: E402
                            json_events, starling_path, stop_process, temp_dir, wait_for,
                            write_random)

SIZE = 6 * 1024 * 1024
SEED_RATE = "1m"  # the seed's upload cap: the first transfer takes about SIZE / 1 MB/s
LEECHERS = 3
LIMIT = 50  # seconds, for every process


def accepts(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.read()
    except OSError as e:
        return ("ERROR %s" % e).encode()


def kill_hard(proc):
    """SIGKILL to the program `timeout` runs (not to `timeout` itself), then reaps both."""
    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
        children = [int(pid) for pid in f.read().split()]
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    return len(children) == 1


def same_file(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        print("SKIP: redis-server is not installed (scripts/deps.sh installs it)")
        return 0
    c = Checker()
    procs = []

    def spawn(cmd, **kwargs):
        p = subprocess.Popen(["timeout", str(LIMIT)] + cmd, **kwargs)
        procs.append(p)
        return p

    with temp_dir("starling-redis-") as work:
        try:
            redis_port = free_port()
            redis = spawn([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1",
                           "--dir", work, "--save", "", "--appendonly", "no",
                           "--logfile", os.path.join(work, "redis.log")])
            if not c.check(wait_for(lambda: accepts(redis_port), 10), "redis-server starts"):
                return c.summary("test_tracker_redis")
            store = "redis://127.0.0.1:%d/0?prefix=fault-test" % redis_port

            ports = {"A": free_port(), "B": free_port()}
            trackers = {}
            for name, port in ports.items():
                trackers[name] = spawn([starling, "tracker", "--http", "127.0.0.1:%d" % port,
                                        "--udp", "off", "--store", store, "--interval", "10",
                                        "--peer-timeout", "120", "--threads", "2"],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            for name, port in ports.items():
                c.check(wait_for(lambda p=port: accepts(p), 10), "replica %s listens" % name)
            url = {n: "http://127.0.0.1:%d/announce" % p for n, p in ports.items()}

            data = os.path.join(work, "seed", "artifact.bin")
            write_random(data, SIZE)
            seed_torrent = os.path.join(work, "seed.torrent")
            r = subprocess.run([starling, "create", data, "-o", seed_torrent, "-t", url["A"],
                                "--piece-size", "64k", "--private", "-q"],
                               capture_output=True, timeout=LIMIT)
            c.equal(r.returncode, 0, "create")
            # The leechers' copy: the same info dict, both replicas in one tier.
            with open(seed_torrent, "rb") as f:
                meta, info = bdecode_torrent(f.read())
            meta[b"announce-list"] = [[url["A"].encode(), url["B"].encode()]]
            leech_torrent = os.path.join(work, "leech.torrent")
            with open(leech_torrent, "wb") as f:
                f.write(bencode(meta))
            with open(leech_torrent, "rb") as f:
                c.check(bdecode_torrent(f.read())[1] == info, "both torrents have one info-hash")

            seed = spawn([starling, "seed", seed_torrent, os.path.dirname(data), "--listen",
                          "127.0.0.1:%d" % free_port(), "--tcp-only", "--no-dht", "--max-up",
                          SEED_RATE, "--json"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stats_a = "http://127.0.0.1:%d/stats" % ports["A"]
            c.check(wait_for(lambda: b'"seeds":1' in http_get(stats_a), 15),
                    "the seed announced to replica A")

            def download(i, timeout):
                out = os.path.join(work, "out%d" % i)
                p = spawn([starling, "download", leech_torrent, "-o", out, "--listen",
                           "127.0.0.1:%d" % free_port(), "--tcp-only", "--no-dht", "--json",
                           "--timeout", str(timeout)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                return p, os.path.join(out, "artifact.bin")

            # 1. Leechers, and replica A killed mid-transfer.
            leechers = [download(i, 40) for i in range(LEECHERS)]
            time.sleep(2.0)
            c.check(all(p.poll() is None for p, _ in leechers),
                    "the leechers are still downloading when A is killed")
            c.check(kill_hard(trackers["A"]), "replica A killed (SIGKILL)")
            c.check(not accepts(ports["A"]), "replica A is gone")
            killed_at = time.monotonic()
            for i, (p, path) in enumerate(leechers):
                try:
                    out, err = p.communicate(timeout=LIMIT)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                ok = c.equal(p.returncode, 0, "leecher %d finishes after A died" % i)
                if not ok:
                    print(out[-1500:], err[-1500:])
                c.check(ok and same_file(data, path), "leecher %d's data is byte-identical" % i)
            print("leechers done %.1f s after the kill" % (time.monotonic() - killed_at))

            # 2. A late leecher: only B is up, and only Redis knows the seed.
            stats_b = "http://127.0.0.1:%d/stats" % ports["B"]
            stats = http_get(stats_b)
            c.check(b'"seeds":1' in stats,
                    "replica B counts the seed that announced to A only", stats.decode())
            late, path = download(9, 30)
            out, err = late.communicate(timeout=LIMIT)
            ok = c.equal(late.returncode, 0, "a leecher joining after the kill finishes")
            if not ok:
                print(out[-1500:], err[-1500:])
            c.check(ok and same_file(data, path), "the late leecher's data is byte-identical")
            done = [e for e in json_events(out) if e.get("event") == "complete"]
            c.check(len(done) == 1, "the late leecher reports completion")

            # 3. Redis dies: B answers with a failure reason, and keeps running.
            c.check(kill_hard(redis), "redis-server killed (SIGKILL)")
            query = ("/announce?info_hash=%s&peer_id=-ST0000-000000000000&port=7000&left=1"
                     % ("%41" * 20))
            started = time.monotonic()
            body = http_get("http://127.0.0.1:%d%s" % (ports["B"], query))
            c.check(b"failure reason" in body and b"unavailable" in body,
                    "an announce while Redis is down gets a failure reason", repr(body[:200]))
            c.check(time.monotonic() - started < 3, "and no hang")
            c.check(trackers["B"].poll() is None, "replica B still runs with Redis down")
            trackers["B"].terminate()
            log, _ = trackers["B"].communicate(timeout=10)
            c.check("redis unavailable" in log, "replica B logs that Redis went away", log[-500:])
            c.equal(trackers["B"].returncode, 0, "replica B exits 0 on SIGTERM")
            stop_process(seed)
        finally:
            for p in procs:
                stop_process(p, timeout=5)
    return c.summary("test_tracker_redis")


if __name__ == "__main__":
    sys.exit(main())
