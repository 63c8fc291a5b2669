#!/usr/bin/env python3
"""Magnet links: metadata exchange (BEP 9) between starling and libtorrent, checked byte for byte.

  * libtorrent seed -> `starling download MAGNET --peer`: metadata, then the data;
    --save-torrent writes a .torrent whose info-hash is the magnet's;
  * starling seed -> starling magnet download (metadata from x.pe in the link);
  * starling seed -> libtorrent fetching the metadata through a magnet (connect_peer), then
    the data;
  * a magnet whose peers have no metadata to give times out with a clear error (exit 1).
Every process is bounded by a timeout and killed at the end.
"""

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, lt,  # noqa: E402
                            starling_path, stop_process, temp_dir, wait_for, write_random)

DEADLINE = 60
SIZE = 3 * 1024 * 1024 + 777


def lt_session(port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
    })


def seed_process(starling, torrent, data_dir, port):
    return subprocess.Popen(["timeout", str(DEADLINE + 30), starling, "seed", torrent, data_dir,
                             "--listen", "127.0.0.1:%d" % port, "--skip-check", "-q", "--no-dht"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def download(starling, source, out, *flags):
    return subprocess.run([starling, "download", source, "-o", out, "--listen", "127.0.0.1:0",
                           "--json", "-v", "--no-dht", *flags],
                          capture_output=True, text=True, timeout=DEADLINE + 20)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-magnet-") as work:
        seed_dir = os.path.join(work, "seed")
        data = os.path.join(seed_dir, "payload.bin")
        write_random(data, SIZE)
        torrent = os.path.join(work, "payload.torrent")
        # 16 KiB pieces: 194 hashes, so the info dictionary takes one whole metadata piece and
        # part of a second.
        r = subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "16k", "-q"],
                           capture_output=True, timeout=DEADLINE)
        if not c.equal(r.returncode, 0, "create exit code"):
            return c.summary("test_magnet")
        ti = lt.torrent_info(torrent)
        info_hash = str(ti.info_hash())
        magnet = "magnet:?xt=urn:btih:%s&dn=payload.bin" % info_hash

        def same(out):
            got = os.path.join(out, "payload.bin")
            return os.path.exists(got) and filecmp.cmp(data, got, shallow=False)

        # 1. libtorrent seed -> starling magnet download.
        lt_port = free_port()
        ses = lt_session(lt_port)
        h = ses.add_torrent({"ti": ti, "save_path": seed_dir})
        c.check(wait_for(lambda: h.status().is_seeding, DEADLINE), "libtorrent seeds the data")
        out = os.path.join(work, "from-libtorrent")
        saved = os.path.join(work, "saved.torrent")
        r = download(starling, magnet, out, "--peer", "127.0.0.1:%d" % lt_port, "--timeout",
                     str(DEADLINE), "--save-torrent", saved)
        c.equal(r.returncode, 0, "libtorrent -> starling magnet: exit code (stderr: %s)"
                % r.stderr[-800:])
        c.check(same(out), "libtorrent -> starling magnet: the data is identical")
        events = json_events(r.stdout)
        c.check(any(e.get("event") == "metadata" for e in events), "a metadata event is reported")
        c.check(os.path.exists(saved), "--save-torrent writes the file")
        if os.path.exists(saved):
            c.equal(str(lt.torrent_info(saved).info_hash()), info_hash,
                    "the saved .torrent has the magnet's info-hash")
        del h, ses

        # 2. starling seed -> starling magnet download, the peer given in x.pe.
        port = free_port()
        seed = seed_process(starling, torrent, seed_dir, port)
        try:
            time.sleep(0.3)
            out = os.path.join(work, "from-starling")
            r = download(starling, magnet + "&x.pe=127.0.0.1:%d" % port, out, "--timeout",
                         str(DEADLINE))
            c.equal(r.returncode, 0, "starling -> starling magnet: exit code (stderr: %s)"
                    % r.stderr[-800:])
            c.check(same(out), "starling -> starling magnet: the data is identical")

            # 3. libtorrent fetches the metadata from the starling seed through a magnet.
            out = os.path.join(work, "to-libtorrent")
            os.makedirs(out)
            ses = lt_session(free_port())
            params = lt.parse_magnet_uri(magnet)
            params.save_path = out
            h = ses.add_torrent(params)
            h.connect_peer(("127.0.0.1", port))
            got_meta = wait_for(lambda: h.status().has_metadata, DEADLINE)
            c.check(got_meta, "libtorrent gets the metadata from a starling seed")
            if got_meta:
                got = h.torrent_file()
                c.equal((got.total_size(), got.num_pieces()), (ti.total_size(), ti.num_pieces()),
                        "libtorrent's metadata describes the same data")
                done = wait_for(lambda: h.status().is_seeding, DEADLINE)
                c.check(done and same(out), "libtorrent then downloads identical data")
            del h, ses
        finally:
            stop_process(seed)

        # 4. Nobody has the metadata: a clear failure within the timeout.
        out = os.path.join(work, "nothing")
        start = time.monotonic()
        r = download(starling, magnet, out, "--timeout", "2")
        c.equal(r.returncode, 1, "a magnet nobody serves fails (exit 1)")
        c.check(time.monotonic() - start < 15, "... within its timeout")
        c.check("metadata" in r.stdout + r.stderr, "the error says metadata is missing",
                (r.stdout + r.stderr)[-300:])
        r = subprocess.run([starling, "download", "magnet:?xt=urn:btih:zz", "-o", out],
                           capture_output=True, text=True, timeout=30)
        c.equal(r.returncode, 2, "a malformed magnet is bad input")
    return c.summary("test_magnet")


if __name__ == "__main__":
    sys.exit(main())
