#!/usr/bin/env python3
"""Transfers over TCP on loopback between starling and libtorrent, checked byte for byte.

  * libtorrent seed -> starling leecher (multi-file, pieces crossing files);
  * starling seed -> libtorrent leecher;
  * starling seed -> starling leecher, whole torrent and `--select` of one file, with --json events;
  * starling seed --super-seed (BEP 16) -> libtorrent and starling leechers at once;
  * a leecher restarted on complete data finishes at once without downloading (resume check).
Every process is bounded by a timeout and killed at the end.
"""

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, lt,  # noqa: E402
                             starling_path, temp_dir, write_random, wait_for)

DEADLINE = 60  # seconds for any one transfer




def lt_session(port):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
    }
    return lt.session(settings)


def start_seed(starling, torrent, seed_dir, port, extra=()):
    return subprocess.Popen([starling, "seed", torrent, seed_dir, "--listen",
                             "127.0.0.1:%d" % port, "--seed-time", str(DEADLINE), "-q",
                             "--tcp-only"] + list(extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc):
    """SIGTERM, then SIGKILL after 10 s; returns stderr as text."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace").strip()


def lt_leecher(torrent, out, seed_port):
    """A libtorrent session downloading `torrent` into `out` from the seed at `seed_port`."""
    os.makedirs(out)
    ses = lt_session(free_port())
    h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": out})
    h.connect_peer(("127.0.0.1", seed_port))
    return ses, h


def same_tree(a, b, rel_paths):
    return all(filecmp.cmp(os.path.join(a, p), os.path.join(b, p), shallow=False)
               for p in rel_paths)


def make_data(root):
    """A multi-file tree whose 32 KiB pieces cross file boundaries, and its file list."""
    files = {"album/one.bin": 100_000, "album/sub/two.bin": 70_001, "album/three.bin": 1,
             "album/four.bin": 250_000}
    for rel, size in files.items():
        write_random(os.path.join(root, rel), size)
    return sorted(files)




def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-transfer-interop-") as work:
        seed_dir = os.path.join(work, "seed")
        files = make_data(seed_dir)
        torrent = os.path.join(work, "album.torrent")
        r = subprocess.run([starling, "create", os.path.join(seed_dir, "album"), "-o", torrent,
                            "--piece-size", "32k", "-q"], capture_output=True, timeout=DEADLINE)
        if not c.equal(r.returncode, 0, "create exit code"):
            return c.summary("test_transfer_interop")

        # 1. libtorrent seed -> starling leecher.
        lt_port = free_port()
        ses = lt_session(lt_port)
        h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": seed_dir})
        c.check(wait_for(lambda: h.status().is_seeding, DEADLINE), "libtorrent seeds the data")
        out1 = os.path.join(work, "from-libtorrent")
        r = subprocess.run([starling, "download", torrent, "-o", out1, "--peer",
                            "127.0.0.1:%d" % lt_port, "--listen", "127.0.0.1:0", "--json",
                            "--tcp-only", "--timeout", str(DEADLINE)],
                           capture_output=True, text=True, timeout=DEADLINE + 10)
        c.equal(r.returncode, 0, "starling download from libtorrent: exit code (stderr: %s)"
                % r.stderr.strip())
        c.check(same_tree(seed_dir, out1, files), "files downloaded from libtorrent are identical")
        events = json_events(r.stdout)
        c.check(events and events[-1].get("event") == "complete",
                "the last JSON event is 'complete'", repr(events[-1:]))
        c.check(not os.path.exists(os.path.join(out1, "album.starling")),
                "the resume file is removed once complete")
        del h, ses

        # 2. starling seed -> libtorrent leecher.
        port = free_port()
        seeder = start_seed(starling, torrent, seed_dir, port)
        try:
            time.sleep(0.5)
            out2 = os.path.join(work, "to-libtorrent")
            ses, h = lt_leecher(torrent, out2, port)
            done = wait_for(lambda: h.status().is_seeding, DEADLINE)
            c.check(done, "libtorrent completes from a starling seed",
                    "progress %.3f" % h.status().progress)
            c.check(done and same_tree(seed_dir, out2, files),
                    "files libtorrent downloaded from starling are identical")
            del h, ses

            # 3. starling seed -> starling leecher, whole and --select.
            out3 = os.path.join(work, "to-starling")
            r = subprocess.run([starling, "download", torrent, "-o", out3, "--peer",
                                "127.0.0.1:%d" % port, "--listen", "127.0.0.1:0", "-q",
                                "--tcp-only", "--timeout", str(DEADLINE)],
                               capture_output=True, text=True, timeout=DEADLINE + 10)
            c.equal(r.returncode, 0, "starling -> starling exit code (stderr: %s)"
                    % r.stderr.strip())
            c.check(same_tree(seed_dir, out3, files), "starling -> starling files are identical")

            # Restarted on complete data: nothing to download, exit 0 at once.
            r = subprocess.run([starling, "download", torrent, "-o", out3, "--listen",
                                "127.0.0.1:0", "--json", "--timeout", "20"],
                               capture_output=True, text=True, timeout=30)
            c.equal(r.returncode, 0, "a complete download exits 0 without peers")
            c.check('"complete"' in r.stdout, "and reports complete", r.stdout[-300:])

            out4 = os.path.join(work, "select")
            # Files sorted by path: four.bin, one.bin, sub/two.bin, three.bin -> index 1 = one.bin
            r = subprocess.run([starling, "download", torrent, "-o", out4, "--peer",
                                "127.0.0.1:%d" % port, "--listen", "127.0.0.1:0", "-q",
                                "--tcp-only", "--select", "1", "--timeout", str(DEADLINE)],
                               capture_output=True, text=True, timeout=DEADLINE + 10)
            c.equal(r.returncode, 0, "--select 1: exit code (stderr: %s)" % r.stderr.strip())
            c.check(same_tree(seed_dir, out4, ["album/one.bin"]), "--select 1 gives one.bin")
            c.check(not os.path.exists(os.path.join(out4, "album", "three.bin")),
                    "--select 1 leaves out three.bin, which shares no piece with one.bin")

            r = subprocess.run([starling, "download", torrent, "-o", out4, "--select", "9"],
                               capture_output=True, text=True, timeout=30)
            c.equal(r.returncode, 2, "--select out of range is bad usage")
        finally:
            err = stop(seeder)
            c.equal(seeder.returncode, 0, "the seed exits 0 on SIGTERM (stderr: %s)" % err)

        # 4. starling seed --super-seed (BEP 16) -> libtorrent and starling leechers at once:
        # the seed shows no pieces and announces a few at a time, and both still complete.
        port = free_port()
        seeder = start_seed(starling, torrent, seed_dir, port, ["--super-seed"])
        try:
            time.sleep(0.5)
            out5 = os.path.join(work, "super-lt")
            ses, h = lt_leecher(torrent, out5, port)
            out6 = os.path.join(work, "super-starling")
            leecher = subprocess.Popen([starling, "download", torrent, "-o", out6, "--peer",
                                        "127.0.0.1:%d" % port, "--listen", "127.0.0.1:0", "-q",
                                        "--tcp-only", "--timeout", str(DEADLINE)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            done = wait_for(lambda: h.status().is_seeding, DEADLINE)
            c.check(done, "libtorrent completes from a super-seeding starling seed",
                    "progress %.3f" % h.status().progress)
            c.check(done and same_tree(seed_dir, out5, files),
                    "files libtorrent got from the super seed are identical")
            _, err = leecher.communicate(timeout=DEADLINE + 10)
            c.equal(leecher.returncode, 0, "a starling leecher beside it completes (stderr: %s)"
                    % err.decode(errors="replace").strip())
            c.check(same_tree(seed_dir, out6, files), "and its files are identical")
            del h, ses
        finally:
            stop(seeder)
    return c.summary("test_transfer_interop")


if __name__ == "__main__":
    sys.exit(main())
