#!/usr/bin/env python3
"""`starling tracker`'s GET /metrics: strict Prometheus text format, swarm gauges that match
what was announced, request counters by action and result that move, and the HTTP
response-time histogram. (The daemon's /metrics is checked in test_daemon.py during a download.)
"""

import os
import subprocess
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import Checker, free_port, starling_path, stop_process, wait_for  # noqa: E402
from test_daemon import parse_prometheus  # noqa: E402


def get(port, target):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, target), timeout=5) as r:
        return r.headers.get("Content-Type", ""), r.read()


def announce(port, info_hash, peer_id, peer_port, left):
    query = urllib.parse.urlencode({"info_hash": info_hash, "peer_id": peer_id,
                                    "port": peer_port, "uploaded": 0, "downloaded": 0,
                                    "left": left, "compact": 1})
    return get(port, "/announce?" + query)


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
    finally:
        stop_process(tracker)
    return c.summary("test_daemon_tracker_metrics")


if __name__ == "__main__":
    sys.exit(main())
