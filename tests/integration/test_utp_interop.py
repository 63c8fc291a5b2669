#!/usr/bin/env python3
"""uTP (BEP 29) on loopback between starling and libtorrent, checked byte for byte.

  * starling seed --utp-only -> starling download --utp-only;
  * libtorrent seed with TCP off -> starling download --utp-only;
  * starling seed --utp-only -> libtorrent leecher with TCP off;
  * a default starling download (uTP first) from a --tcp-only seed falls back to TCP at once
    (the ICMP port unreachable for the uTP SYN, not the 3 s connect timeout);
  * --tcp-only with --utp-only is bad usage.
Every process is bounded by a timeout and killed at the end.
"""

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, last_event, lt,  # noqa: E402
                            starling_path, stop_process, temp_dir, wait_for, write_random)

DEADLINE = 60  # seconds for any one transfer
SIZE = 6 * 1024 * 1024 + 12345  # libtorrent's uTP is slow (a few MB/s here): keep it small


def lt_utp_session(port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_tcp": False, "enable_incoming_tcp": False,
        "enable_outgoing_utp": True, "enable_incoming_utp": True,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
    })


def seed_process(starling, torrent, data_dir, port, *flags):
    return subprocess.Popen(["timeout", str(DEADLINE + 30), starling, "seed", torrent, data_dir,
                             "--listen", "127.0.0.1:%d" % port, "--skip-check", "-q", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def download(starling, torrent, out, port, *flags):
    return subprocess.run([starling, "download", torrent, "-o", out, "--peer",
                           "127.0.0.1:%d" % port, "--listen", "127.0.0.1:0", "--json", "-v",
                           "--timeout", str(DEADLINE), *flags],
                          capture_output=True, text=True, timeout=DEADLINE + 10)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-utp-interop-") as work:
        seed_dir = os.path.join(work, "seed")
        data = os.path.join(seed_dir, "payload.bin")
        write_random(data, SIZE)
        torrent = os.path.join(work, "payload.torrent")
        r = subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "64k", "-q"],
                           capture_output=True, timeout=DEADLINE)
        if not c.equal(r.returncode, 0, "create exit code"):
            return c.summary("test_utp_interop")

        def same(out):
            got = os.path.join(out, "payload.bin")
            return os.path.exists(got) and filecmp.cmp(data, got, shallow=False)

        # 1. starling -> starling over uTP only.
        port = free_port()
        seed = seed_process(starling, torrent, seed_dir, port, "--utp-only")
        try:
            time.sleep(0.3)
            out = os.path.join(work, "starling-utp")
            r = download(starling, torrent, out, port, "--utp-only")
            c.equal(r.returncode, 0, "starling -> starling over uTP: exit code (stderr: %s)"
                    % r.stderr[-500:])
            c.check(same(out), "starling -> starling over uTP is identical")
            c.check(any(e.get("event") == "complete" for e in json_events(r.stdout)),
                    "the download reports complete")
        finally:
            stop_process(seed)

        # 2. libtorrent seed (uTP only) -> starling --utp-only.
        lt_port = free_port()
        ses = lt_utp_session(lt_port)
        h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": seed_dir})
        c.check(wait_for(lambda: h.status().is_seeding, DEADLINE), "libtorrent seeds the data")
        out = os.path.join(work, "from-libtorrent")
        r = download(starling, torrent, out, lt_port, "--utp-only")
        c.equal(r.returncode, 0, "libtorrent -> starling over uTP: exit code (stderr: %s)"
                % r.stderr[-500:])
        c.check(same(out), "libtorrent -> starling over uTP is identical")
        del h, ses

        # 3. starling seed --utp-only -> libtorrent leecher (uTP only).
        port = free_port()
        seed = seed_process(starling, torrent, seed_dir, port, "--utp-only")
        try:
            time.sleep(0.3)
            out = os.path.join(work, "to-libtorrent")
            os.makedirs(out)
            ses = lt_utp_session(free_port())
            h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": out})
            h.connect_peer(("127.0.0.1", port))
            done = wait_for(lambda: h.status().is_seeding, DEADLINE)
            c.check(done, "libtorrent completes from a starling uTP seed",
                    "progress %.3f" % h.status().progress)
            c.check(done and same(out), "libtorrent's copy over uTP is identical")
            del h, ses
        finally:
            stop_process(seed)

        # 4. Default transports against a TCP-only seed: uTP fails, TCP takes over.
        port = free_port()
        seed = seed_process(starling, torrent, seed_dir, port, "--tcp-only")
        try:
            time.sleep(0.3)
            out = os.path.join(work, "fallback")
            r = download(starling, torrent, out, port)
            c.equal(r.returncode, 0, "uTP-first download from a TCP-only seed: exit code "
                    "(stderr: %s)" % r.stderr[-500:])
            c.check(same(out), "the TCP fallback copy is identical")
            # The seed's kernel refuses our uTP SYN with an ICMP port unreachable: TCP is dialled
            # at once, not after uTP's 3 s connect timeout.
            done = last_event(r.stdout, "complete")
            seconds = done.get("seconds", 99.0) if done else 99.0
            c.check(seconds < 2.0, "the TCP fallback completes well under uTP's connect timeout",
                    "complete after %.2f s" % seconds)
        finally:
            stop_process(seed)

        r = subprocess.run([starling, "download", torrent, "-o", os.path.join(work, "bad"),
                            "--tcp-only", "--utp-only"],
                           capture_output=True, text=True, timeout=30)
        c.equal(r.returncode, 2, "--tcp-only with --utp-only is bad usage")
        c.check("tcp-only" in r.stderr, "the error names the flags", r.stderr)
    return c.summary("test_utp_interop")


if __name__ == "__main__":
    sys.exit(main())
