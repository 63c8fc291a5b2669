#!/usr/bin/env python3
"""starling's tracker client against real trackers and a scripted one, on loopback.

  * A scripted HTTP tracker pair: the first tier refuses (failure reason), the second answers
    with a libtorrent seed's address. `starling download` must fall over to the second tier,
    find the seed, finish byte-identical and announce started -> completed -> stopped with
    sensible counters; `starling seed` must announce started, then stopped on SIGTERM.
  * opentracker (Debian), over HTTP and over UDP: a libtorrent seed announces there,
    `starling info --scrape` counts it, and `starling download` with that tracker as its only
    source of peers finishes.
  * IPv6: a starling seed and leecher on [::1] meet through `starling tracker` on [::1].
  * `starling tracker`, the same way (when this build has the command), and aria2c downloading
    from a `starling seed` that it finds through `starling tracker`.
Every process is bounded by a timeout and killed at the end.
"""

import http.server
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, bencode, free_port, json_events, lt,  # noqa: E402
                             starling_path, stop_process, temp_dir, write_random, wait_for)

DEADLINE = 60
SIZE = 3_000_000


def lt_seed(torrent, save_path):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % free_port(),
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True, "announce_to_all_tiers": True,
        "announce_to_all_trackers": True, "alert_mask": 0,
    }
    ses = lt.session(settings)
    handle = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save_path})
    return ses, handle


def compact(host, port):
    return socket.inet_aton(host) + struct.pack(">H", port)


class ScriptedTracker:
    """An HTTP tracker that records every announce and answers with a fixed reply."""

    def __init__(self, reply):
        self.reply = reply
        self.announces = []  # dicts of the query parameters (values as bytes)
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                query = urllib.parse.urlsplit(self.path).query
                params = {}
                for part in query.split("&"):
                    key, _, value = part.partition("=")
                    params[key] = urllib.parse.unquote_to_bytes(value)
                tracker.announces.append(params)
                body = bencode(tracker.reply)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on this tracker (it is quitting): fine

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/announce" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def from_port(self, port):
        return [a for a in self.announces if a.get("port") == str(port).encode()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def create(starling, data, torrent, trackers):
    cmd = [starling, "create", data, "-o", torrent, "--piece-size", "64k", "-q"]
    for url in trackers:
        cmd += ["-t", url]
    return subprocess.run(cmd, capture_output=True, timeout=DEADLINE).returncode


def download(starling, torrent, out, port, extra=()):
    return subprocess.run([starling, "download", torrent, "-o", out, "--listen",
                           "127.0.0.1:%d" % port, "--json", "--timeout", "40", *extra],
                          capture_output=True, text=True, timeout=DEADLINE)


def scripted_tiers(c, starling, work, data):
    refusing = ScriptedTracker({"failure reason": "not today"})
    good = ScriptedTracker({"interval": 1800, "peers": b""})
    try:
        torrent = os.path.join(work, "scripted.torrent")
        c.equal(create(starling, data, torrent, [refusing.url, good.url]), 0, "create")
        ses, handle = lt_seed(torrent, os.path.dirname(data))
        c.check(wait_for(lambda: handle.status().is_seeding, DEADLINE), "libtorrent seeds")
        good.reply["peers"] = compact("127.0.0.1", ses.listen_port())

        port = free_port()
        out = os.path.join(work, "scripted-out")
        r = download(starling, torrent, out, port)
        c.equal(r.returncode, 0, "download through the second tier")
        if r.returncode != 0:
            print(r.stdout[-2000:], r.stderr[-2000:])
        c.check(filecmp_same(data, os.path.join(out, os.path.basename(data))),
                "downloaded data is byte-identical")
        c.check(len(refusing.from_port(port)) >= 1, "the first tier was tried first")
        events = [a.get("event", b"").decode() for a in good.from_port(port)]
        c.equal(events, ["started", "completed", "stopped"], "events seen by the second tier")
        ours = good.from_port(port)
        if len(ours) == 3:
            c.equal(ours[0].get("left"), str(SIZE).encode(), "left at start")
            c.equal(ours[1].get("left"), b"0", "left when completed")
            c.check(int(ours[1].get("downloaded", b"0")) >= SIZE, "downloaded when completed")
            c.equal(len(ours[0].get("info_hash", b"")), 20, "info_hash is 20 bytes")
            c.equal(ours[0].get("compact"), b"1", "compact peers asked")
            c.check(ours[0].get("peer_id", b"").startswith(b"-ST"), "starling's peer id")

        # A seed announces started, then stopped when told to quit.
        seed_port = free_port()
        seed = subprocess.Popen([starling, "seed", torrent, os.path.dirname(data), "--listen",
                                 "127.0.0.1:%d" % seed_port, "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            c.check(wait_for(lambda: good.from_port(seed_port), 20), "the seed announces")
            seed.send_signal(signal.SIGTERM)
            seed.wait(timeout=20)
            c.equal(seed.returncode, 0, "seed exits 0 on SIGTERM")
            events = [a.get("event", b"").decode() for a in good.from_port(seed_port)]
            c.equal(events, ["started", "stopped"], "seed's events")
        finally:
            stop_process(seed)
        del handle, ses
    finally:
        refusing.close()
        good.close()


def filecmp_same(a, b):
    import filecmp
    return os.path.exists(b) and filecmp.cmp(a, b, shallow=False)


def through_tracker(c, starling, work, data, name, urls):
    """libtorrent seeds with every URL in `urls`; starling downloads with each URL alone."""
    torrent_all = os.path.join(work, name + "-all.torrent")
    c.equal(create(starling, data, torrent_all, urls), 0, "create (%s)" % name)
    ses, handle = lt_seed(torrent_all, os.path.dirname(data))
    c.check(wait_for(lambda: handle.status().is_seeding, DEADLINE), "libtorrent seeds (%s)" % name)
    # Until libtorrent has announced to every URL (it announces as soon as it seeds).
    wait_for(lambda: all(t.get("verified") for t in handle.trackers()), 20)
    # `info --scrape` asks each tracker for its counts: the libtorrent seed is one seed.
    r = subprocess.run([starling, "info", torrent_all, "--json", "--scrape"], capture_output=True,
                       text=True, timeout=DEADLINE)
    c.equal(r.returncode, 0, "info --scrape exit code (%s)" % name)
    try:
        scrapes = __import__("json").loads(r.stdout).get("scrape", [])
    except ValueError:
        scrapes = []
    c.equal([(e.get("url"), e.get("complete")) for e in scrapes], [(u, 1) for u in urls],
            "scrape through %s: one seed on every URL (got %r)" % (name, scrapes))
    for url in urls:
        torrent = os.path.join(work, "%s-%s.torrent" % (name, url.split(":")[0]))
        create(starling, data, torrent, [url])
        out = os.path.join(work, "%s-%s-out" % (name, url.split(":")[0]))
        r = download(starling, torrent, out, free_port())
        ok = c.equal(r.returncode, 0, "download finds the seed through %s (%s)" % (name, url))
        if not ok:
            print(r.stdout[-1500:], r.stderr[-1500:])
        c.check(filecmp_same(data, os.path.join(out, os.path.basename(data))),
                "byte-identical through %s (%s)" % (name, url))
        complete = [e for e in json_events(r.stdout) if e.get("event") == "complete"]
        c.check(bool(complete), "complete event (%s)" % url)
    del handle, ses


def aria2_from_starling_seed(c, starling, work, data, tracker_port):
    aria2 = shutil.which("aria2c")
    if not aria2:
        print("SKIP: aria2c is not installed")
        return
    torrent = os.path.join(work, "aria2.torrent")
    create(starling, data, torrent, ["http://127.0.0.1:%d/announce" % tracker_port])
    seed = subprocess.Popen(["timeout", str(DEADLINE), starling, "seed", torrent,
                             os.path.dirname(data), "--listen", "127.0.0.1:%d" % free_port(),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1)  # the seed's first announce
        out = os.path.join(work, "aria2-out")
        try:
            r = subprocess.run([aria2, "--seed-time=0", "--enable-dht=false",
                                "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                                "--listen-port=%d" % free_port(), "--summary-interval=0",
                                "--console-log-level=warn", "--stop=%d" % DEADLINE, "-d", out,
                                torrent], capture_output=True, text=True, timeout=DEADLINE + 15)
            c.equal(r.returncode, 0, "aria2c exit code (stderr: %s)" % r.stderr.strip()[-300:])
        except subprocess.TimeoutExpired:
            c.check(False, "aria2c finished in time")
        c.check(filecmp_same(data, os.path.join(out, os.path.basename(data))),
                "aria2c's copy from the starling seed is byte-identical")
    finally:
        stop_process(seed)


def ipv6_swarm(c, starling, work, data):
    """A starling seed and leecher on [::1] find each other through `starling tracker` on [::1]
    (peers6, BEP 7), over an http:// and a udp:// announce URL."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        print("SKIP: no IPv6 loopback")
        return
    with socket.socket(socket.AF_INET6) as s6:
        s6.bind(("::1", 0))
        port = s6.getsockname()[1]
    tracker = subprocess.Popen(["timeout", "120", starling, "tracker", "--http", "[::1]:%d" % port],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seed = None
    try:
        time.sleep(0.5)
        urls = ["http://[::1]:%d/announce" % port, "udp://[::1]:%d" % port]
        torrent_all = os.path.join(work, "v6-all.torrent")
        create(starling, data, torrent_all, urls)
        seed = subprocess.Popen(["timeout", str(DEADLINE), starling, "seed", torrent_all,
                                 os.path.dirname(data), "--listen", "[::1]:0", "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1)  # the seed's first announces
        for url in urls:
            torrent = os.path.join(work, "v6-%s.torrent" % url.split(":")[0])
            create(starling, data, torrent, [url])
            out = os.path.join(work, "v6-%s-out" % url.split(":")[0])
            r = subprocess.run([starling, "download", torrent, "-o", out, "--listen", "[::1]:0",
                                "--json", "--timeout", "30"], capture_output=True, text=True,
                               timeout=DEADLINE)
            c.equal(r.returncode, 0, "IPv6 download through %s" % url)
            c.check(filecmp_same(data, os.path.join(out, os.path.basename(data))),
                    "IPv6 download through %s is byte-identical" % url)
    finally:
        if seed:
            stop_process(seed)
        stop_process(tracker)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-tracker-client-") as work:
        os.chmod(work, 0o755)  # opentracker drops privileges and must read the whitelist
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, SIZE)
        scripted_tiers(c, starling, work, data)

        info = subprocess.run([starling, "info", "--json", os.path.join(work, "scripted.torrent")],
                              capture_output=True, text=True, timeout=DEADLINE)
        info_hash = __import__("json").loads(info.stdout)["info_hash"] if info.returncode == 0 else ""

        if shutil.which("opentracker"):
            whitelist = os.path.join(work, "whitelist")
            with open(whitelist, "w") as f:
                f.write(info_hash + "\n")
            os.chmod(whitelist, 0o644)
            port = free_port()
            tracker = subprocess.Popen(["timeout", "120", "opentracker", "-i", "127.0.0.1", "-p",
                                        str(port), "-P", str(port), "-w", whitelist],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                through_tracker(c, starling, work, data, "opentracker",
                                ["http://127.0.0.1:%d/announce" % port,
                                 "udp://127.0.0.1:%d" % port])
            finally:
                stop_process(tracker)
        else:
            print("SKIP: opentracker is not installed")

        has_tracker = subprocess.run([starling, "tracker", "--help"], capture_output=True,
                                     timeout=DEADLINE).returncode == 0
        if has_tracker:
            port = free_port()
            tracker = subprocess.Popen(["timeout", "120", starling, "tracker", "--http",
                                        "127.0.0.1:%d" % port],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                through_tracker(c, starling, work, data, "starling-tracker",
                                ["http://127.0.0.1:%d/announce" % port,
                                 "udp://127.0.0.1:%d" % port])
                aria2_from_starling_seed(c, starling, work, data, port)
                ipv6_swarm(c, starling, work, data)
            finally:
                stop_process(tracker)
        else:
            print("SKIP: this starling has no tracker command yet")
    return c.summary("test_tracker_client")


if __name__ == "__main__":
    sys.exit(main())
