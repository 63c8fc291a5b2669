#!/usr/bin/env python3
"""Magnet downloads whose peers are found only through a private DHT (BEP 5) on loopback.

  * starling seed (a DHT node on its peer port) -> `starling download MAGNET --dht-bootstrap
    SEED`: the leecher knows nothing but the seed's address as a DHT node, finds it as a peer
    within seconds, fetches the metadata and the data;
  * libtorrent seed with its DHT bootstrapped to a starling node (loopback restrictions relaxed)
    -> starling magnet download bootstrapped to the same starling node;
  * --dht-state keeps the node id across runs; --no-dht answers no DHT query.
No public router is ever contacted: every node is given explicitly. Every process is bounded
by a timeout and killed at the end.
"""

import filecmp
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, lt,  # noqa: E402
                            starling_path, stop_process, temp_dir, wait_for, write_random)

DEADLINE = 60
SIZE = 2 * 1024 * 1024 + 4321


def seed_process(starling, torrent, data_dir, port, *flags):
    return subprocess.Popen(["timeout", str(DEADLINE + 60), starling, "seed", torrent, data_dir,
                             "--listen", "127.0.0.1:%d" % port, "--skip-check", "-q", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def download(starling, magnet, out, *flags):
    return subprocess.run([starling, "download", magnet, "-o", out, "--listen", "127.0.0.1:0",
                           "--json", "-v", "--timeout", str(DEADLINE), *flags],
                          capture_output=True, text=True, timeout=DEADLINE + 20)


def dht_ping(port):
    """A KRPC ping to 127.0.0.1:port; the reply's bytes, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1.0)
        s.sendto(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", ("127.0.0.1", port))
        try:
            return s.recvfrom(2048)[0]
        except socket.timeout:
            return None


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-dht-") as work:
        seed_dir = os.path.join(work, "seed")
        data = os.path.join(seed_dir, "payload.bin")
        write_random(data, SIZE)
        torrent = os.path.join(work, "payload.torrent")
        r = subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "32k", "-q"],
                           capture_output=True, timeout=DEADLINE)
        if not c.equal(r.returncode, 0, "create exit code"):
            return c.summary("test_dht")
        ti = lt.torrent_info(torrent)
        magnet = "magnet:?xt=urn:btih:%s" % ti.info_hash()

        def same(out):
            got = os.path.join(out, "payload.bin")
            return os.path.exists(got) and filecmp.cmp(data, got, shallow=False)

        # 1. starling seed -> starling leecher that knows only the seed's DHT node.
        port = free_port()
        state = os.path.join(work, "seed-dht.state")
        seed = seed_process(starling, torrent, seed_dir, port, "--dht-state", state)
        try:
            c.check(wait_for(lambda: dht_ping(port) is not None, 10),
                    "the seed's DHT node answers on its peer port")
            out = os.path.join(work, "from-starling")
            r = download(starling, magnet, out, "--dht-bootstrap", "127.0.0.1:%d" % port)
            c.equal(r.returncode, 0, "DHT-only magnet download from a starling seed: exit code "
                    "(stderr: %s)" % r.stderr[-800:])
            c.check(same(out), "the data is identical")
            meta = [e for e in json_events(r.stdout) if e.get("event") == "metadata"]
            c.check(bool(meta) and meta[0]["seconds"] < 5,
                    "the seed is found and the metadata fetched within seconds", str(meta))
            c.check("dht:" in r.stderr, "the log says the peer came from the DHT")
        finally:
            stop_process(seed)
        # The node id persists: the state file exists and the next run keeps the id.
        c.check(os.path.exists(state), "--dht-state is written on exit")
        if os.path.exists(state):
            with open(state, "rb") as f:
                before = f.read()
            seed = seed_process(starling, torrent, seed_dir, port, "--dht-state", state)
            try:
                reply = None
                wait_for(lambda: dht_ping(port) is not None, 10)
                reply = dht_ping(port)
                c.check(reply is not None and before[before.find(b"2:id20:") + 7:][:20] in reply,
                        "the restarted node answers with the saved id")
            finally:
                stop_process(seed)

        # 2. libtorrent seed found through a starling DHT node.
        node_port = free_port()
        other = os.path.join(work, "other")
        write_random(os.path.join(other, "x.bin"), 1000)
        other_torrent = os.path.join(work, "other.torrent")
        subprocess.run([starling, "create", os.path.join(other, "x.bin"), "-o", other_torrent, "-q"],
                       capture_output=True, timeout=DEADLINE)
        node = seed_process(starling, other_torrent, other, node_port)
        try:
            wait_for(lambda: dht_ping(node_port) is not None, 10)
            lt_port = free_port()
            ses = lt.session({
                "listen_interfaces": "127.0.0.1:%d" % lt_port,
                "enable_dht": True, "dht_bootstrap_nodes": "127.0.0.1:%d" % node_port,
                "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
                "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
                "dht_enforce_node_id": False,
                "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                "allow_multiple_connections_per_ip": True, "alert_mask": 0,
            })
            h = ses.add_torrent({"ti": ti, "save_path": seed_dir})
            c.check(wait_for(lambda: h.status().is_seeding, DEADLINE), "libtorrent seeds")
            # libtorrent announces once its DHT is up; ask again until the node has it.
            end = time.monotonic() + 20
            while time.monotonic() < end and not h.status().announcing_to_dht:
                time.sleep(0.2)
            for _ in range(10):
                h.force_dht_announce()
                time.sleep(0.5)
            out = os.path.join(work, "from-libtorrent")
            r = download(starling, magnet, out, "--dht-bootstrap", "127.0.0.1:%d" % node_port)
            c.equal(r.returncode, 0, "DHT-only magnet download from a libtorrent seed: exit code "
                    "(stderr: %s)" % r.stderr[-800:])
            c.check(same(out), "libtorrent -> starling through the DHT: the data is identical")
            del h, ses
        finally:
            stop_process(node)

        # 3. --no-dht: nothing answers on UDP.
        port = free_port()
        quiet = seed_process(starling, torrent, seed_dir, port, "--no-dht")
        try:
            time.sleep(0.5)
            c.check(dht_ping(port) is None, "--no-dht answers no DHT query")
        finally:
            stop_process(quiet)
    return c.summary("test_dht")


if __name__ == "__main__":
    sys.exit(main())
