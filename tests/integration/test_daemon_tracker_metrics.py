#!/usr/bin/env python3
"""`starling tracker`'s GET /metrics: strict Prometheus text format, swarm gauges that match
what was announced, request counters by action and result that move, and the HTTP
response-time histogram. (The daemon's /metrics is checked in test_daemon.py during a download.)

Then `starling daemon` against that tracker, driven by transmission-remote:
  * -a http://.../x.torrent: the .torrent fetched from a local http.server (404 and https are
    clear errors);
  * -t 1 --reannounce: the tracker counts a second announce at once, not after the interval;
  * -t 1 -u 200: a `starling download` leecher gets the torrent at no more than ~200 kB/s
    (rate <= 1.5x the limit, time >= 0.6x the ideal), the data intact; -t 1 -U lifts it;
  * -t 1 --move DIR: the file moves, is checked there and the torrent seeds again.
"""

import filecmp
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, starling_path, stop_process,  # noqa: E402
                            temp_dir, wait_for, write_random)
from test_daemon import Daemon, parse_prometheus  # noqa: E402

LIMIT_KB = 200                       # the torrent's upload limit, kB/s (1000 bytes)
SIZE = 3 * 1024 * 1024 // 2 + 777    # ~1.5 MiB: about 8 s at the limit


def get(port, target):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, target), timeout=5) as r:
        return r.headers.get("Content-Type", ""), r.read()


def announce(port, info_hash, peer_id, peer_port, left):
    query = urllib.parse.urlencode({"info_hash": info_hash, "peer_id": peer_id,
                                    "port": peer_port, "uploaded": 0, "downloaded": 0,
                                    "left": left, "compact": 1})
    return get(port, "/announce?" + query)


def announces_ok(port):
    _, text = get(port, "/metrics")
    return parse_prometheus(text.decode()).get(
        ("starling_tracker_requests_total",
         (("protocol", "http"), ("action", "announce"), ("result", "ok"))), 0)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def daemon_checks(c, starling, tracker_port):
    with temp_dir("starling-daemon-tracker-") as work:
        seed_dir = os.path.join(work, "seed")
        write_random(os.path.join(seed_dir, "gamma.bin"), SIZE)
        torrent = os.path.join(work, "web", "gamma.torrent")
        os.makedirs(os.path.dirname(torrent))
        r = subprocess.run([starling, "create", os.path.join(seed_dir, "gamma.bin"), "-o", torrent,
                            "--piece-size", "64k", "-q", "-t",
                            "http://127.0.0.1:%d/announce" % tracker_port],
                           capture_output=True, timeout=30)
        c.equal(r.returncode, 0, "create gamma.torrent")
        web = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0),
            functools.partial(QuietHandler, directory=os.path.join(work, "web")))
        threading.Thread(target=web.serve_forever, daemon=True).start()
        web_url = "http://127.0.0.1:%d" % web.server_address[1]
        # The data is there already: the daemon checks it and seeds.
        d = Daemon(starling, os.path.join(work, "config"), seed_dir, 1, work)
        d.cmd = [starling, "daemon", "--config-dir", os.path.join(work, "config"),
                 "--download-dir", seed_dir, "--no-dht", "--tcp-only"]
        try:
            if not c.check(d.start(), "the daemon answers"):
                return
            before = announces_ok(tracker_port)
            code, out = d.remote("-a", web_url + "/gamma.torrent")
            c.check(code == 0 and "success" in out, "-a http://.../gamma.torrent", out)
            reply = d.rpc("torrent-add", {"filename": web_url + "/missing.torrent"})
            c.check("HTTP 404" in reply["result"] and "/missing.torrent" in reply["result"],
                    "torrent-add of a missing URL: a clear error", reply["result"])
            reply = d.rpc("torrent-add", {"filename": "https://127.0.0.1:1/x.torrent"})
            c.check("https is not supported" in reply["result"], "https: a clear error",
                    reply["result"])

            def status():
                got = d.rpc("torrent-get", {"ids": [1], "fields": ["status", "uploadLimit",
                                                                  "uploadLimited"]})
                torrents = got["arguments"]["torrents"]
                return torrents[0] if torrents else {}
            c.check(wait_for(lambda: status().get("status") == 6, 20), "torrent 1 seeds",
                    repr(status()))
            c.check(wait_for(lambda: announces_ok(tracker_port) >= before + 1, 10),
                    "the daemon announced to the tracker")
            time.sleep(0.5)
            before = announces_ok(tracker_port)
            code, out = d.remote("-t", "1", "--reannounce")
            c.equal(code, 0, "-t 1 --reannounce: %s" % out)
            c.check(wait_for(lambda: announces_ok(tracker_port) >= before + 1, 5),
                    "--reannounce: the tracker sees a second announce at once",
                    "%r -> %r" % (before, announces_ok(tracker_port)))

            code, out = d.remote("-t", "1", "-u", str(LIMIT_KB))
            c.equal(code, 0, "-t 1 -u %d: %s" % (LIMIT_KB, out))
            t = status()
            c.check(t.get("uploadLimit") == LIMIT_KB and t.get("uploadLimited") is True,
                    "torrent-get shows the torrent's upload limit", repr(t))

            def leech(name):
                out_dir = os.path.join(work, name)
                start = time.monotonic()
                r = subprocess.run([starling, "download", torrent, "-o", out_dir, "--no-dht",
                                    "--tcp-only", "--listen", "127.0.0.1:%d" % free_port(),
                                    "--peer", "127.0.0.1:%d" % d.listen_port, "--timeout", "60",
                                    "-q"], capture_output=True, text=True, timeout=90)
                elapsed = time.monotonic() - start
                got = os.path.join(out_dir, "gamma.bin")
                ok = r.returncode == 0 and os.path.exists(got) and filecmp.cmp(
                    got, os.path.join(seed_dir, "gamma.bin"), shallow=False)
                return ok, elapsed, r.stderr[-500:]

            ok, elapsed, err = leech("limited")
            ideal = SIZE / (LIMIT_KB * 1000.0)
            rate = SIZE / elapsed / 1000.0
            c.check(ok, "the limited download completes with the right data", err)
            c.check(rate <= 1.5 * LIMIT_KB and elapsed >= 0.6 * ideal,
                    "the upload limit holds: %.0f kB/s for a %d kB/s limit (%.1f s, ideal %.1f s)"
                    % (rate, LIMIT_KB, elapsed, ideal))
            print("per-torrent upload limit: target %d kB/s, measured %.0f kB/s over %.1f s"
                  % (LIMIT_KB, rate, elapsed))

            code, out = d.remote("-t", "1", "-U")
            c.equal(code, 0, "-t 1 -U: %s" % out)
            c.check(status().get("uploadLimited") is False, "the limit is off", repr(status()))
            ok, fast, err = leech("unlimited")
            c.check(ok and fast < elapsed / 2,
                    "without the limit it is fast again: %.1f s (was %.1f s)" % (fast, elapsed),
                    err)

            # --move: the files go to the new folder, are checked there, and it seeds again.
            moved = os.path.join(work, "moved")
            code, out = d.remote("-t", "1", "--move", moved)
            c.equal(code, 0, "-t 1 --move: %s" % out)
            c.check(wait_for(lambda: status().get("status") == 6, 20) and
                    os.path.exists(os.path.join(moved, "gamma.bin")) and
                    not os.path.exists(os.path.join(seed_dir, "gamma.bin")),
                    "--move: the file moved, checked complete, seeding", repr(status()))
        finally:
            web.shutdown()
            if d.proc and d.proc.poll() is None:
                d.signal(signal.SIGTERM)
            if c.failures:
                print("daemon log tail:\n" + d.log_tail())


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    port = free_port()
    tracker = subprocess.Popen([starling, "tracker", "--http", "127.0.0.1:%d" % port, "--udp",
                                "off"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def up():
            try:
                get(port, "/stats")
                return True
            except OSError:
                return False
        if not c.check(wait_for(up, 10), "the tracker answers"):
            return c.summary("test_daemon_tracker_metrics")
        content_type, text = get(port, "/metrics")
        c.check(content_type.startswith("text/plain; version=0.0.4"), "content type", content_type)
        before = parse_prometheus(text.decode())
        announce(port, b"A" * 20, b"-XX0001-000000000001", 7001, 0)    # a seeder
        announce(port, b"A" * 20, b"-XX0001-000000000002", 7002, 100)  # a leecher
        announce(port, b"B" * 20, b"-XX0001-000000000003", 7003, 100)
        get(port, "/announce?info_hash=short")                           # refused
        get(port, "/scrape?" + urllib.parse.urlencode({"info_hash": b"A" * 20}))
        _, text = get(port, "/metrics")
        try:
            after = parse_prometheus(text.decode())
        except ValueError as e:
            c.check(False, "/metrics parses", str(e))
            return c.summary("test_daemon_tracker_metrics")
        c.equal(after.get(("starling_tracker_info_hashes", ())), 2.0, "info-hashes")
        c.equal(after.get(("starling_tracker_seeders", ())), 1.0, "seeders")
        c.equal(after.get(("starling_tracker_leechers", ())), 2.0, "leechers")

        def requests(samples, action, result):
            return samples.get(("starling_tracker_requests_total",
                                (("protocol", "http"), ("action", action), ("result", result))), 0)
        c.equal(requests(after, "announce", "ok") - requests(before, "announce", "ok"), 3.0,
                "announce ok counter moved by 3")
        c.equal(requests(after, "announce", "error") - requests(before, "announce", "error"), 1.0,
                "announce error counter moved by 1")
        c.equal(requests(after, "scrape", "ok") - requests(before, "scrape", "ok"), 1.0,
                "scrape ok counter moved by 1")
        count = after.get(("starling_tracker_http_response_seconds_count", ()), 0)
        inf = after.get(("starling_tracker_http_response_seconds_bucket", (("le", "+Inf"),)), -1)
        c.check(count >= 6 and count == inf, "the histogram counts every request (+Inf = count)",
                "count %r, +Inf %r" % (count, inf))
        c.check(any(k[0] == "starling_build_info" for k in after), "starling_build_info")
        if shutil.which("transmission-remote") is None:
            c.check(False, "transmission-remote missing; run scripts/deps.sh (transmission-cli)")
        else:
            daemon_checks(c, starling, port)
    finally:
        stop_process(tracker)
    return c.summary("test_daemon_tracker_metrics")


if __name__ == "__main__":
    sys.exit(main())
