#!/usr/bin/env python3
"""BEP 19 web seeds on loopback, with real HTTP servers (web_seed_server.py, started here):

  * single-file torrent from two web seeds alone (url-list naming the file, and naming its folder;
    the second closes its connections after every 4 replies);
  * multi-file torrent (pieces spanning files, an empty file) from a folder URL given in the
    torrent (one request per connection) plus a `--web-seed` that redirects to another server;
  * a web seed together with a peer (`starling seed`): both contribute, data byte-identical;
  * bad servers beside a good one: corrupt bytes, 404, a stall: each detected (and the first two
    dropped), the download completes.
Every process and server is bounded in time and stopped at the end.
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, starling_path,  # noqa: E402
                            stop_process, temp_dir, wait_for, write_random)
from web_seed_server import WebSeedServer  # noqa: E402

DEADLINE = 90


def create(starling, source, torrent, piece, seeds):
    cmd = [starling, "create", source, "-o", torrent, "--piece-size", piece, "-q"]
    for url in seeds:
        cmd += ["-w", url]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def download(starling, torrent, out, *flags):
    r = subprocess.run([starling, "download", torrent, "-o", out, "--listen", "127.0.0.1:0",
                        "--json", "-v", "--timeout", str(DEADLINE - 10), *flags],
                       capture_output=True, text=True, timeout=DEADLINE)
    complete = [e for e in json_events(r.stdout) if e.get("event") == "complete"]
    return r, (complete[-1] if complete else None)


def same_tree(a, b):
    for root, _dirs, files in os.walk(a):
        for name in files:
            path = os.path.join(root, name)
            other = os.path.join(b, os.path.relpath(path, a))
            if not os.path.isfile(other):
                return False
            with open(path, "rb") as x, open(other, "rb") as y:
                if x.read() != y.read():
                    return False
    return True


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def seed_stats(event, server):
    for s in (event or {}).get("web_seeds", []):
        if s["url"].startswith(server.url):
            return s
    return {}


def single_file(check, starling, work):
    data_dir = os.path.join(work, "single")
    os.makedirs(data_dir)
    write_random(os.path.join(data_dir, "payload.bin"), 6 * 1024 * 1024 + 12345)
    a = WebSeedServer(data_dir, rate=3 * 1024 * 1024).start()
    # b closes its connections after every 4 replies (nginx's keepalive_requests, in small).
    b = WebSeedServer(data_dir, rate=3 * 1024 * 1024, requests_per_connection=4).start()
    try:
        torrent = os.path.join(work, "single.torrent")
        create(starling, os.path.join(data_dir, "payload.bin"), torrent, "256k",
               [a.url + "payload.bin", b.url])
        out = os.path.join(work, "out-single")
        r, done = download(starling, torrent, out)
        check(r.returncode == 0 and done is not None,
              "single file: download from web seeds completes (exit %d) %s" %
              (r.returncode, r.stderr[-600:]))
        check(same_tree(data_dir, out), "single file: byte-identical")
        check(a.bytes_sent > 0 and b.bytes_sent > 0,
              "single file: both web seeds served data (%d, %d bytes)" %
              (a.bytes_sent, b.bytes_sent))
        check(a.connections <= 3, "single file: a persistent connection (%d opened)" %
              a.connections)
        check(b.connections >= 2 and b.bytes_sent > 1024 * 1024,
              "single file: 'Connection: close' is followed by a new connection (%d opened, "
              "%d bytes)" % (b.connections, b.bytes_sent))
    finally:
        a.stop()
        b.stop()


def multi_file(check, starling, work):
    root = os.path.join(work, "multi-src")
    top = os.path.join(root, "album")
    os.makedirs(os.path.join(top, "sub dir"))
    sizes = {"a.bin": 100000, "sub dir/b b.bin": 33333, "sub dir/empty": 0, "c.bin": 1500000,
             "d.bin": 7}
    for name, size in sizes.items():
        write_random(os.path.join(top, name), size)
    # `good` answers one request per connection ("Connection: close", as HTTP/1.0 servers do):
    # pieces spanning files need two requests, which must survive the reconnection.
    good = WebSeedServer(root, rate=2 * 1024 * 1024, requests_per_connection=1).start()
    target = WebSeedServer(root, rate=2 * 1024 * 1024).start()
    redirecting = WebSeedServer(root, mode="redirect", redirect_to=target.url).start()
    try:
        torrent = os.path.join(work, "multi.torrent")
        create(starling, top, torrent, "32k", [good.url])
        out = os.path.join(work, "out-multi")
        r, done = download(starling, torrent, out, "--web-seed", redirecting.url)
        check(r.returncode == 0 and done is not None,
              "multi-file: download from web seeds completes (exit %d) %s" %
              (r.returncode, r.stderr[-600:]))
        check(same_tree(top, os.path.join(out, "album")) and
              os.path.isfile(os.path.join(out, "album", "sub dir", "empty")),
              "multi-file: byte-identical, empty file created")
        check(target.bytes_sent > 0 and redirecting.requests > 0,
              "multi-file: the redirected web seed was followed (%d bytes from its target)" %
              target.bytes_sent)
        check(good.bytes_sent > 0, "multi-file: the url-list web seed served data")
    finally:
        good.stop()
        target.stop()
        redirecting.stop()


def with_peer(check, starling, work):
    data_dir = os.path.join(work, "peer-src")
    os.makedirs(data_dir)
    write_random(os.path.join(data_dir, "payload.bin"), 8 * 1024 * 1024)
    server = WebSeedServer(data_dir, rate=1024 * 1024).start()
    torrent = os.path.join(work, "peer.torrent")
    create(starling, os.path.join(data_dir, "payload.bin"), torrent, "256k", [server.url])
    port = free_port()
    seed = subprocess.Popen(["timeout", str(DEADLINE), starling, "seed", torrent, data_dir,
                             "--listen", "127.0.0.1:%d" % port, "--skip-check", "-q",
                             "--max-up", "2m", "--tcp-only"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # A refused first connection is retried only after 5 s: start once the seed listens.
        wait_for(lambda: port_open(port), 20)
        out = os.path.join(work, "out-peer")
        r, done = download(starling, torrent, out, "--peer", "127.0.0.1:%d" % port,
                           "--tcp-only")
        check(r.returncode == 0 and done is not None,
              "web seed + peer: download completes (exit %d) %s" %
              (r.returncode, r.stderr[-600:]))
        check(same_tree(data_dir, out), "web seed + peer: byte-identical")
        from_seed = seed_stats(done, server).get("downloaded", 0)
        total = (done or {}).get("downloaded", 0)
        check(0 < from_seed < total,
              "web seed + peer: both sources contributed (%d of %d bytes from the web seed)" %
              (from_seed, total))
    finally:
        stop_process(seed)
        server.stop()


def bad_servers(check, starling, work):
    data_dir = os.path.join(work, "bad-src")
    os.makedirs(data_dir)
    write_random(os.path.join(data_dir, "payload.bin"), 10 * 1024 * 1024)
    good = WebSeedServer(data_dir, rate=1024 * 1024).start()
    corrupt = WebSeedServer(data_dir, mode="corrupt").start()
    missing = WebSeedServer(data_dir, mode="missing").start()
    stall = WebSeedServer(data_dir, mode="stall").start()
    try:
        torrent = os.path.join(work, "bad.torrent")
        create(starling, os.path.join(data_dir, "payload.bin"), torrent, "256k", [good.url])
        out = os.path.join(work, "out-bad")
        r, done = download(starling, torrent, out, "--web-seed", corrupt.url,
                           "--web-seed", missing.url, "--web-seed", stall.url)
        check(r.returncode == 0 and done is not None,
              "bad servers: download completes (exit %d) %s" % (r.returncode, r.stderr[-800:]))
        check(same_tree(data_dir, out), "bad servers: byte-identical")
        c, m, s = seed_stats(done, corrupt), seed_stats(done, missing), seed_stats(done, stall)
        check(c.get("state", "").startswith("dropped") and "corrupt" in c.get("state", ""),
              "bad servers: the corrupt one is dropped (%s)" % c)
        check(m.get("state", "").startswith("dropped") and "404" in m.get("state", ""),
              "bad servers: the 404 one is dropped (%s)" % m)
        check(s.get("failures", 0) >= 1 and s.get("downloaded", 1) == 0 and
              "stalled" in r.stderr,
              "bad servers: the stalled one is detected (%s)" % s)
    finally:
        for server in (good, corrupt, missing, stall):
            server.stop()


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    checker = Checker()
    check = checker.check
    with temp_dir("starling-webseed-") as work:
        single_file(check, starling, work)
        multi_file(check, starling, work)
        with_peer(check, starling, work)
        bad_servers(check, starling, work)
    return checker.summary("test_web_seed")


if __name__ == "__main__":
    sys.exit(main())
