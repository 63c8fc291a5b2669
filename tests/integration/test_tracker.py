#!/usr/bin/env python3
"""`starling tracker` against real clients, on loopback, every process bounded in time.

a. HTTP announce/scrape/stats through urllib, keep-alive and pipelining over a raw socket, and
   BEP 15 connect/announce/scrape over a UDP socket; malformed requests get a failure reason
   (HTTP) or an error packet (UDP); a bad whitelist line exits 2 naming file and line.
b. libtorrent swarms (1 seed + 2 leechers, peers known only through the tracker), once with an
   http:// tracker URL and once with a udp:// one: both leechers finish byte-identical.
c. aria2c downloads from a libtorrent seed it finds through the tracker.
"""

import filecmp
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, bdecode_value, free_port, lt, starling_path,  # noqa: E402
                            stop_process, temp_dir, write_random, wait_for)

DEADLINE = 40
PROTOCOL_ID = 0x41727101980


def bdecode(data):
    value, end = bdecode_value(data, 0)
    if end != len(data):
        raise ValueError("trailing data")
    return value


class Tracker:
    """A running `starling tracker` on a free port (HTTP and UDP on the same number)."""

    def __init__(self, starling, extra=()):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [starling, "tracker", "--http", "127.0.0.1:%d" % self.port, "--interval", "10",
             "--min-interval", "1"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.base = "http://127.0.0.1:%d" % self.port
        self.ready = wait_for(self._up, 10)

    def _up(self):
        try:
            self.stats()
            return True
        except OSError:
            return self.proc.poll() is not None and False

    def get(self, path, query=""):
        url = self.base + path + ("?" + query if query else "")
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()

    def stats(self):
        return json.loads(self.get("/stats")[1])

    def stop(self):
        """SIGTERM; returns (exit code, stdout, stderr)."""
        self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return None, out, err
        return self.proc.returncode, out, err


def announce_query(info_hash, peer_id, port, left, **extra):
    params = [("info_hash", info_hash), ("peer_id", peer_id), ("port", str(port)),
              ("uploaded", "0"), ("downloaded", "0"), ("left", str(left))]
    params += [(k, str(v)) for k, v in extra.items()]
    return "&".join("%s=%s" % (k, urllib.parse.quote_from_bytes(v if isinstance(v, bytes)
                                                                 else v.encode(), safe=""))
                    for k, v in params)


def compact_peers(blob):
    return sorted("%s:%d" % (socket.inet_ntoa(blob[i:i + 4]),
                             struct.unpack(">H", blob[i + 4:i + 6])[0])
                  for i in range(0, len(blob), 6))


def check_http(tracker, c):
    h = bytes(range(100, 120))
    status, body = tracker.get("/announce", announce_query(h, b"A" * 20, 7001, 0,
                                                           event="started"))
    c.equal(status, 200, "announce status")
    a = bdecode(body)
    c.equal((a.get(b"complete"), a.get(b"incomplete"), a.get(b"interval")), (1, 0, 10),
            "first announce: 1 seed, interval 10")
    b = bdecode(tracker.get("/announce", announce_query(h, b"B" * 20, 7002, 500))[1])
    c.equal(compact_peers(b.get(b"peers", b"")), ["127.0.0.1:7001"],
            "the leecher gets the seed's socket address and announced port")
    c.equal(b.get(b"peers6"), b"", "no IPv6 peers")
    nc = bdecode(tracker.get("/announce", announce_query(h, b"C" * 20, 7003, 500, compact=0,
                                                         ip="203.0.113.9"))[1])
    c.equal(sorted((p[b"ip"], p[b"port"]) for p in nc.get(b"peers", [])),
            [(b"127.0.0.1", 7001), (b"127.0.0.1", 7002)], "compact=0 gives dictionaries")
    # B completes; scrape sees 2 seeds, 1 leecher, 1 download.
    tracker.get("/announce", announce_query(h, b"B" * 20, 7002, 0, event="completed"))
    s = bdecode(tracker.get("/scrape", "info_hash=" + urllib.parse.quote_from_bytes(h))[1])
    c.equal(s.get(b"files", {}).get(h), {b"complete": 2, b"downloaded": 1, b"incomplete": 1},
            "scrape counts")
    stopped = bdecode(tracker.get("/announce", announce_query(h, b"C" * 20, 7003, 500,
                                                              event="stopped"))[1])
    c.equal(stopped.get(b"incomplete"), 0, "a stopped leecher leaves the swarm")

    for query, word in [("info_hash=abc&peer_id=x&port=1", b"info_hash"),
                        (announce_query(h, b"A" * 20, 0, 0), b"port"),
                        (announce_query(h, b"A" * 19, 1, 0), b"peer_id"),
                        ("", b"missing info_hash")]:
        status, body = tracker.get("/announce", query)
        reply = bdecode(body)
        c.check(status == 200 and word in reply.get(b"failure reason", b""),
                "malformed announce (%s) gets a failure reason naming %r" % (query[:30], word),
                repr(body))
    c.check(b"failure reason" in bdecode(tracker.get("/scrape")[1]), "empty scrape fails")
    try:
        tracker.get("/nowhere")
        c.check(False, "unknown path gets 404")
    except urllib.error.HTTPError as e:
        c.equal(e.code, 404, "unknown path gets 404")

    # Keep-alive and pipelining: three requests in one write, three answers in order.
    with socket.create_connection(("127.0.0.1", tracker.port), timeout=5) as s:
        q = "/announce?" + announce_query(h, b"D" * 20, 7004, 1)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\nGET /stats HTTP/1.1\r\n\r\n"
                   "GET /scrape?info_hash=%s HTTP/1.1\r\nConnection: close\r\n\r\n"
                   % (q, urllib.parse.quote_from_bytes(h))).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    parts = data.split(b"HTTP/1.1 200 OK\r\n")
    c.equal(len(parts), 4, "three pipelined answers on one connection, then close")
    if len(parts) == 4:
        c.check(b"d8:complete" in parts[1] and b'"torrents"' in parts[2] and b"5:files" in parts[3],
                "pipelined answers come in request order", repr(data[:300]))
    # A head beyond the bound is refused and the connection closed.
    with socket.create_connection(("127.0.0.1", tracker.port), timeout=5) as s:
        s.sendall(b"GET /announce?" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n")
        reply = s.recv(4096)
        c.check(reply.startswith(b"HTTP/1.1 431"), "an oversized head gets 431", repr(reply[:60]))

    st = tracker.stats()
    c.check(st["torrents"] == 1 and st["peers"] == 3 and st["seeds"] == 2 and st["errors"] >= 5,
            "/stats counts torrents, peers, seeds and errors", repr(st))


def udp_exchange(sock, packet):
    sock.send(packet)
    return sock.recv(4096)


def check_udp(tracker, c):
    h = bytes(range(100, 120))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.connect(("127.0.0.1", tracker.port))
        r = udp_exchange(s, struct.pack(">QII", PROTOCOL_ID, 0, 1111))
        c.equal(len(r), 16, "connect response is 16 bytes")
        action, tid, cid = struct.unpack(">IIQ", r[:16])
        c.equal((action, tid), (0, 1111), "connect response action and transaction id")
        pkt = struct.pack(">QII20s20sQQQIIIiH", cid, 1, 2222, h, b"U" * 20, 0, 10, 0, 2, 0, 7,
                          -1, 7100)
        r = udp_exchange(s, pkt)
        action, tid, interval, leechers, seeders = struct.unpack(">IIIII", r[:20])
        c.equal((action, tid, interval), (1, 2222, 10), "announce response header")
        c.equal((leechers, seeders), (2, 2), "announce counts include the HTTP peers")
        c.check("127.0.0.1:7001" in compact_peers(r[20:]), "UDP announce returns HTTP peers",
                repr(compact_peers(r[20:])))
        r = udp_exchange(s, struct.pack(">QII", cid, 2, 3333) + h)
        c.equal(struct.unpack(">IIIII", r), (2, 3333, 2, 1, 2), "scrape response")
        forged = struct.pack(">QII20s20sQQQIIIiH", cid ^ 0xff, 1, 4444, h, b"V" * 20, 0, 10, 0,
                             2, 0, 7, -1, 7101)
        r = udp_exchange(s, forged)
        c.check(struct.unpack(">II", r[:8]) == (3, 4444) and b"connection id" in r,
                "a forged connection id gets an error packet", repr(r))
        r = udp_exchange(s, b"\x00garbage")
        c.equal(struct.unpack(">I", r[:4])[0], 3, "garbage gets an error packet")
        r = udp_exchange(s, pkt[:50])
        c.check(r[:4] == b"\x00\x00\x00\x03" and b"98 bytes" in r,
                "a truncated announce gets an error naming the size", repr(r))


def check_whitelist(starling, work, c):
    good = os.path.join(work, "good.txt")
    with open(good, "w") as f:
        f.write("# allowed\n" + "ab" * 20 + "\n\n")
    bad = os.path.join(work, "bad.txt")
    with open(bad, "w") as f:
        f.write("ab" * 20 + "\nnot-a-hash\n")
    r = subprocess.run([starling, "tracker", "--http", "127.0.0.1:0", "--whitelist", bad],
                       capture_output=True, text=True, timeout=10)
    c.equal(r.returncode, 2, "a bad whitelist line exits 2")
    c.check("bad.txt:2" in r.stderr, "the error names file and line", r.stderr)
    t = Tracker(starling, ["--whitelist", good])
    try:
        if c.check(t.ready, "whitelisted tracker starts"):
            ok = bdecode(t.get("/announce", announce_query(b"\xab" * 20, b"A" * 20, 1, 0))[1])
            c.check(b"interval" in ok, "a whitelisted torrent is served", repr(ok))
            no = bdecode(t.get("/announce", announce_query(b"\xcd" * 20, b"A" * 20, 1, 0))[1])
            c.check(b"not allowed" in no.get(b"failure reason", b""),
                    "another torrent gets a failure reason", repr(no))
    finally:
        t.stop()


def make_torrent(path, trackers, piece=64 * 1024):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)  # one info-hash
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    return lt.bencode(ct.generate())


def lt_session(port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "alert_mask": 0,
    })


def add(ses, torrent_file, save_path):
    return ses.add_torrent({"ti": lt.torrent_info(torrent_file), "save_path": save_path})


def check_lt_swarm(starling, work, url_kind, c):
    tracker = Tracker(starling)
    try:
        if not c.check(tracker.ready, "tracker starts (%s)" % url_kind):
            return
        url = ("http://127.0.0.1:%d/announce" % tracker.port if url_kind == "http"
               else "udp://127.0.0.1:%d" % tracker.port)
        root = os.path.join(work, "lt-" + url_kind)
        src = os.path.join(root, "seed", "data.bin")
        write_random(src, 3 * 1024 * 1024 + 777)
        torrent_file = os.path.join(root, "data.torrent")
        with open(torrent_file, "wb") as f:
            f.write(make_torrent(src, [url]))
        seed = lt_session(free_port())
        hs = add(seed, torrent_file, os.path.dirname(src))
        c.check(wait_for(lambda: tracker.stats()["seeds"] == 1, DEADLINE),
                "the libtorrent seed announces over %s" % url_kind, repr(tracker.stats()))
        leechers = []
        for name in ("l1", "l2"):
            ses = lt_session(free_port())
            leechers.append((name, ses, add(ses, torrent_file, os.path.join(root, name))))
        done = wait_for(lambda: all(h.status().is_seeding for _, _, h in leechers), DEADLINE)
        c.check(done, "both libtorrent leechers complete through the %s tracker" % url_kind,
                repr([(n, h.status().progress, h.status().num_peers) for n, _, h in leechers]))
        for name, _, _ in leechers:
            got = os.path.join(root, name, "data.bin")
            c.check(os.path.exists(got) and filecmp.cmp(src, got, shallow=False),
                    "%s's copy is byte-identical (%s)" % (name, url_kind))
        st = tracker.stats()
        key = "http_announces" if url_kind == "http" else "udp_announces"
        c.check(st[key] >= 3, "the tracker served %s announces" % url_kind, repr(st))
        del hs, seed, leechers
    finally:
        code, _, err = tracker.stop()
        c.equal(code, 0, "tracker exits 0 on SIGTERM (stderr: %s)" % err.strip())


def check_aria2(starling, work, c):
    aria2 = shutil.which("aria2c")
    if not aria2:
        print("SKIP: aria2c is not installed (part c)")
        return
    tracker = Tracker(starling)
    try:
        if not c.check(tracker.ready, "tracker starts (aria2)"):
            return
        root = os.path.join(work, "aria2")
        src = os.path.join(root, "seed", "data.bin")
        write_random(src, 2 * 1024 * 1024 + 5)
        torrent_file = os.path.join(root, "data.torrent")
        with open(torrent_file, "wb") as f:
            f.write(make_torrent(src, ["http://127.0.0.1:%d/announce" % tracker.port]))
        seed = lt_session(free_port())
        hs = add(seed, torrent_file, os.path.dirname(src))
        c.check(wait_for(lambda: tracker.stats()["seeds"] == 1, DEADLINE),
                "the libtorrent seed announces (aria2 part)")
        out = os.path.join(root, "aria2")
        try:
            r = subprocess.run([aria2, "--seed-time=0", "--enable-dht=false",
                                "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                                "--listen-port=%d" % free_port(), "--summary-interval=0",
                                "--console-log-level=warn", "--stop=%d" % DEADLINE, "-d", out,
                                torrent_file], capture_output=True, text=True,
                               timeout=DEADLINE + 15)
            c.equal(r.returncode, 0, "aria2c exit code (stderr: %s)" % r.stderr.strip()[-300:])
        except subprocess.TimeoutExpired:
            c.check(False, "aria2c finished in time")
        got = os.path.join(out, "data.bin")
        c.check(os.path.exists(got) and filecmp.cmp(src, got, shallow=False),
                "aria2c's copy is byte-identical")
        del hs, seed
    finally:
        tracker.stop()


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    c = Checker()
    with temp_dir("starling-tracker-") as work:
        tracker = Tracker(starling)
        try:
            if c.check(tracker.ready, "starling tracker answers /stats",
                       tracker.proc.stderr.read() if tracker.proc.poll() is not None else ""):
                check_http(tracker, c)
                check_udp(tracker, c)
        finally:
            code, out, err = tracker.stop()
            c.equal(code, 0, "tracker exits 0 on SIGTERM (stderr: %s)" % err.strip())
            c.check("listening: http://127.0.0.1:%d/announce" % tracker.port in out and
                    "listening: udp://127.0.0.1:%d" % tracker.port in out,
                    "it printed the addresses it listened on", out)
        check_whitelist(starling, work, c)
        check_lt_swarm(starling, work, "http", c)
        check_lt_swarm(starling, work, "udp", c)
        check_aria2(starling, work, c)
    return c.summary("test_tracker")


if __name__ == "__main__":
    sys.exit(main())
