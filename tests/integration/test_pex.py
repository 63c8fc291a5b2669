#!/usr/bin/env python3
"""Peer exchange (BEP 11 ut_pex): a leecher that knows one of two seeds finds the other.

Seed B dials seed A (two seeds stay connected, idle); leecher L is given only A. A's PEX
message names B, L dials B and downloads from both; with A's upload capped, B does most of the
work: at 32 KiB/s A alone would need over two minutes, longer than the deadline. Also:
libtorrent, connected only to seed A, completes the same way (it learns of B from starling's PEX).
Every process is bounded by a timeout and killed at the end; DHT off (--no-dht) throughout.
"""

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, lt, starling_path,  # noqa: E402
                            stop_process, temp_dir, wait_for, write_random)

DEADLINE = 60
SIZE = 4 * 1024 * 1024 + 99


def seed_process(starling, torrent, data_dir, port, *flags):
    return subprocess.Popen(["timeout", str(DEADLINE + 60), starling, "seed", torrent, data_dir,
                             "--listen", "127.0.0.1:%d" % port, "--skip-check", "-q", "--no-dht",
                             *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-pex-") as work:
        seed_dir = os.path.join(work, "seed")
        data = os.path.join(seed_dir, "payload.bin")
        write_random(data, SIZE)
        torrent = os.path.join(work, "payload.torrent")
        r = subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "64k", "-q"],
                           capture_output=True, timeout=DEADLINE)
        if not c.equal(r.returncode, 0, "create exit code"):
            return c.summary("test_pex")
        port_a, port_b = free_port(), free_port()
        seed_a = seed_process(starling, torrent, seed_dir, port_a, "--max-up", "32k")
        seed_b = None
        try:
            time.sleep(0.3)
            seed_b = seed_process(starling, torrent, seed_dir, port_b, "--peer",
                                  "127.0.0.1:%d" % port_a)
            time.sleep(1.0)  # B is connected to A
            out = os.path.join(work, "leecher")
            r = subprocess.run([starling, "download", torrent, "-o", out, "--listen",
                                "127.0.0.1:0", "--peer", "127.0.0.1:%d" % port_a, "--no-dht",
                                "-v", "--json", "--timeout", str(DEADLINE)],
                               capture_output=True, text=True, timeout=DEADLINE + 20)
            c.equal(r.returncode, 0, "the leecher completes (stderr: %s)" % r.stderr[-800:])
            got = os.path.join(out, "payload.bin")
            c.check(os.path.exists(got) and filecmp.cmp(data, got, shallow=False),
                    "the data is identical")
            c.check("from PEX of 127.0.0.1" in r.stderr, "the leecher got peers through PEX")
            c.check("connected to 127.0.0.1:%d" % port_b in r.stderr,
                    "the leecher connected to seed B, which it was never told about",
                    r.stderr[-600:])

            # libtorrent, given only seed A, learns of B through starling's PEX: it finishes
            # before A alone could have sent the data.
            lt_out = os.path.join(work, "lt")
            os.makedirs(lt_out)
            ses = lt.session({
                "listen_interfaces": "127.0.0.1:%d" % free_port(),
                "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
                "enable_natpmp": False, "allow_multiple_connections_per_ip": True,
                "alert_mask": 0,
            })
            h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": lt_out})
            h.connect_peer(("127.0.0.1", port_a))
            done = wait_for(lambda: h.status().is_seeding, DEADLINE)
            c.check(done, "libtorrent given only seed A completes (it found B through PEX)",
                    "progress %.3f" % h.status().progress)
            got = os.path.join(lt_out, "payload.bin")
            c.check(done and filecmp.cmp(data, got, shallow=False), "libtorrent's copy is identical")
            del h, ses
        finally:
            stop_process(seed_a)
            if seed_b:
                stop_process(seed_b)
    return c.summary("test_pex")


if __name__ == "__main__":
    sys.exit(main())
