#!/usr/bin/env python3
"""`starling daemon` against `transmission-daemon` (Debian, 3.00), in the same invocation, on
the same 100 torrents: resident memory once every torrent is added and seeding, and RPC latency
of the request `transmission-remote -l` sends (torrent-get with its 14 fields for all torrents)
over one kept-alive connection.

Method: 100 random files of 256 KiB each (one .torrent each, 16 KiB pieces, no trackers), data
already in the download folder so every torrent checks and seeds. Each daemon runs on loopback
with DHT, LPD, uTP and port mapping off; torrents are added over RPC with `metainfo` (base64).
After all are seeding and 2 s of quiet, VmRSS is read from /proc, then --requests torrent-get
requests are timed one after another. Each daemon is started --runs times, alternating; medians
are reported.

Usage: bench/daemon_bench.py --starling build/bin/starling [--torrents 100] [--runs 3]
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

LIST_FIELDS = ["error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name",
               "peersGettingFromUs", "peersSendingToUs", "rateDownload", "rateUpload",
               "sizeWhenDone", "status", "uploadRatio"]


class Rpc:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.sid = ""

    def call(self, method, arguments=None):
        body = json.dumps({"method": method, "arguments": arguments or {}})
        for _ in range(2):
            self.conn.request("POST", "/transmission/rpc", body,
                              {"X-Transmission-Session-Id": self.sid,
                               "Content-Type": "application/json"})
            r = self.conn.getresponse()
            data = r.read()
            if r.status == 409:
                self.sid = r.getheader("X-Transmission-Session-Id")
                continue
            return json.loads(data)
        raise RuntimeError("no session id")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_rpc(port, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            return Rpc(port), Rpc(port).call("session-get")
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.1)
    raise RuntimeError("daemon on port %d did not answer" % port)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def measure(kind, starling, torrents, data_dir, work, requests):
    config = tempfile.mkdtemp(prefix="cfg-", dir=work)
    port = free_port()
    peer_port = free_port()
    if kind == "starling":
        cmd = [starling, "daemon", "--config-dir", config, "--download-dir", data_dir, "--rpc",
               "127.0.0.1:%d" % port, "--listen", "127.0.0.1:%d" % peer_port, "--no-dht",
               "--tcp-only"]
    else:
        cmd = ["transmission-daemon", "-f", "-g", config, "-w", data_dir, "-p", str(port), "-T",
               "-P", str(peer_port), "-O", "-Y", "-M", "--no-incomplete-dir", "-i", "127.0.0.1",
               "-r", "127.0.0.1", "--log-error"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rpc, _ = wait_rpc(port)
        if kind == "transmission":
            rpc.call("session-set", {"utp-enabled": False})
        for path in torrents:
            with open(path, "rb") as f:
                reply = rpc.call("torrent-add", {"metainfo": base64.b64encode(f.read()).decode(),
                                                 "download-dir": data_dir})
            assert reply["result"] == "success", reply
        end = time.monotonic() + 60
        while time.monotonic() < end:
            got = rpc.call("torrent-get", {"fields": ["id", "percentDone", "status"]})
            ts = got["arguments"]["torrents"]
            if len(ts) == len(torrents) and all(t["percentDone"] == 1 and t["status"] == 6
                                                for t in ts):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("%s: torrents did not all check and seed" % kind)
        time.sleep(2)
        rss = rss_kib(proc.pid)
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            reply = rpc.call("torrent-get", {"fields": LIST_FIELDS})
            times.append(time.perf_counter() - t0)
            assert len(reply["arguments"]["torrents"]) == len(torrents)
        times.sort()
        # The same request on a fresh connection each time (as transmission-remote does).
        fresh = []
        for _ in range(requests):
            t0 = time.perf_counter()
            one = Rpc(port)
            one.sid = rpc.sid
            reply = one.call("torrent-get", {"fields": LIST_FIELDS})
            fresh.append(time.perf_counter() - t0)
            one.conn.close()
            assert len(reply["arguments"]["torrents"]) == len(torrents)
        fresh.sort()
        return (rss, statistics.median(times) * 1000, times[int(len(times) * 0.9)] * 1000,
                statistics.median(fresh) * 1000, fresh[int(len(fresh) * 0.9)] * 1000)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--starling", required=True)
    p.add_argument("--torrents", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--requests", type=int, default=200)
    a = p.parse_args()
    if shutil.which("transmission-daemon") is None:
        print("needs transmission-daemon (apt-get install transmission-daemon)")
        return 1
    work = tempfile.mkdtemp(prefix="starling-daemon-bench-")
    try:
        data_dir = os.path.join(work, "data")
        os.makedirs(data_dir)
        torrents = []
        for i in range(a.torrents):
            name = os.path.join(data_dir, "file%03d.bin" % i)
            with open(name, "wb") as f:
                f.write(os.urandom(256 * 1024))
            out = os.path.join(work, "t%03d.torrent" % i)
            subprocess.run([a.starling, "create", name, "-o", out, "--piece-size", "16k", "-q",
                            "--no-date"], check=True)
            torrents.append(out)
        results = {"starling": [], "transmission": []}
        for run in range(a.runs):
            for kind in ("starling", "transmission"):
                results[kind].append(measure(kind, os.path.abspath(a.starling), torrents,
                                             data_dir, work, a.requests))
                print("run %d %-12s rss %6d KiB  torrent-get keep-alive median %.2f ms p90 %.2f ms"
                      "  new connection median %.2f ms p90 %.2f ms"
                      % ((run + 1, kind) + results[kind][-1]), flush=True)
        med = {k: tuple(statistics.median(r[i] for r in v) for i in range(5))
               for k, v in results.items()}
        print("\nmedians over %d runs, %d torrents:" % (a.runs, a.torrents))
        for k, m in med.items():
            print("  %-12s RSS %6.0f KiB  torrent-get(-l fields) keep-alive median %.2f ms p90 %.2f"
                  " ms, new connection median %.2f ms p90 %.2f ms" % ((k,) + m))
        s, t = med["starling"], med["transmission"]
        print("  ratio starling/transmission: RSS %.2f, keep-alive median %.3f, new-connection "
              "median %.3f" % (s[0] / t[0], s[1] / t[1], s[3] / t[3]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
