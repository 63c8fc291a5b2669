#!/usr/bin/env python3
"""Interop test: `starling verify` and libtorrent's full hash check agree, piece for piece.

For a single-file torrent (64 KiB pieces) and a multi-file torrent (32 KiB pieces, pieces that
straddle files, an empty file, nested folders, names with a space and UTF-8), both made by
`starling create`:

  * good data: `starling verify --json` exits 0 with {"pieces":N,"good":N,"bad":[]}, and
    libtorrent (save_path at the data, loopback-only session, no DHT/LSD/UPnP/NAT-PMP, upload mode)
    finishes its check with status().num_pieces == N;
  * one byte flipped in the middle of a known piece (for the multi-file torrent, a piece that
    straddles two files): starling exits 1 with bad == [that piece], and libtorrent's
    status().pieces lacks exactly that piece;
  * one file of the multi-file tree deleted: starling exits 1 and bad is exactly the pieces that
    touch the file (computed from the file offsets); libtorrent agrees;
  * one file cut short: the pieces from the cut to the end of that file are bad; libtorrent agrees;
  * DATA_PATH given as the single file itself, as "DIR/" with a trailing slash, and as the
    multi-file top folder itself: exit 0.

Run: /usr/bin/python3 tests/integration/test_verify_interop.py --starling build/bin/starling
Exits 0 on success, 1 on any failed check (each one is printed).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import Checker, lt, run, starling_path, temp_dir, write_random  # noqa: E402

LT_TIMEOUT = 20   # seconds, for each libtorrent check


def starling_verify(starling, torrent, data_path):
    """(exit code, parsed JSON or None, stderr text)."""
    r = run([starling, "verify", "--json", torrent, data_path])
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = None
    return r.returncode, j, r.stderr.decode(errors="replace")


def lt_check(torrent, save_path):
    """Full libtorrent hash check of the data; returns the list of pieces it has (bools)."""
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": (lt.alert.category_t.status_notification
                       | lt.alert.category_t.error_notification),
    })
    try:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent)
        atp.save_path = save_path
        # Upload mode: never download or write; the check still runs in full.
        atp.flags = ((atp.flags | lt.torrent_flags.upload_mode)
                     & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused)
        handle = ses.add_torrent(atp)
        deadline = time.monotonic() + LT_TIMEOUT
        checked = False
        while time.monotonic() < deadline and not checked:
            ses.wait_for_alert(200)
            for a in ses.pop_alerts():
                if isinstance(a, lt.torrent_checked_alert):
                    checked = True
                elif isinstance(a, lt.torrent_error_alert):
                    raise RuntimeError("libtorrent: %s" % a.message())
        if not checked:
            raise RuntimeError("libtorrent did not finish checking within %d s" % LT_TIMEOUT)
        status = handle.status(lt.status_flags_t.query_pieces)
        pieces = list(status.pieces)
        if sum(pieces) != status.num_pieces:
            raise RuntimeError("libtorrent: num_pieces %d but %d set in pieces"
                               % (status.num_pieces, sum(pieces)))
        ses.remove_torrent(handle)
        return pieces
    finally:
        del ses


def pieces_touching(offset, size, piece_length):
    if size == 0:
        return []
    return list(range(offset // piece_length, (offset + size - 1) // piece_length + 1))


def expect_result(c, starling, torrent, data_path, lt_save_path, n, bad, label):
    """starling verify gives exactly `bad`, and so does libtorrent (when lt_save_path)."""
    code, j, err = starling_verify(starling, torrent, data_path)
    c.equal(code, 0 if not bad else 1, "%s: starling verify exit code (stderr: %s)"
            % (label, err.strip()))
    c.equal(j, {"pieces": n, "good": n - len(bad), "bad": bad},
            "%s: starling verify --json" % label)
    if lt_save_path is not None:
        try:
            have = lt_check(torrent, lt_save_path)
        except RuntimeError as e:
            c.check(False, "%s: libtorrent check" % label, str(e))
            return
        c.equal(len(have), n, "%s: libtorrent piece count" % label)
        c.equal([i for i, h in enumerate(have) if not h], bad,
                "%s: pieces libtorrent finds missing" % label)


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    c = Checker()
    with temp_dir("starling-verify-interop-") as work:
        data = os.path.join(work, "data")
        os.makedirs(data)

        # ---- single file ---------------------------------------------------------------------
        single_name = "single ü.bin"
        single = os.path.join(data, single_name)
        single_size = 2 * 1024 * 1024 + 4321
        spl = 64 * 1024
        write_random(single, single_size)
        single_torrent = os.path.join(work, "single.torrent")
        r = run([starling, "create", single, "-o", single_torrent, "--piece-size", "64k",
                 "--no-date", "-q"])
        if c.equal(r.returncode, 0, "create single (stderr: %s)" % r.stderr.decode().strip()):
            n = (single_size + spl - 1) // spl
            expect_result(c, starling, single_torrent, data, data, n, [], "single, good data")
            code, j, err = starling_verify(starling, single_torrent, single)
            c.equal((code, j), (0, {"pieces": n, "good": n, "bad": []}),
                    "single: DATA_PATH is the file itself (stderr: %s)" % err.strip())
            code, j, err = starling_verify(starling, single_torrent, data + "/")
            c.equal((code, j), (0, {"pieces": n, "good": n, "bad": []}),
                    "single: DATA_PATH with a trailing slash (stderr: %s)" % err.strip())

            k = 13
            flip_byte(single, k * spl + spl // 2)
            expect_result(c, starling, single_torrent, data, data, n, [k],
                          "single, byte flipped in piece %d" % k)
            code, j, _ = starling_verify(starling, single_torrent, single)
            c.equal((code, j), (1, {"pieces": n, "good": n - 1, "bad": [k]}),
                    "single, flipped byte, DATA_PATH is the file itself")
            flip_byte(single, k * spl + spl // 2)  # restore
            # The last, short piece.
            flip_byte(single, single_size - 1)
            expect_result(c, starling, single_torrent, data, data, n, [n - 1],
                          "single, last byte flipped")
            flip_byte(single, single_size - 1)
            code, j, _ = starling_verify(starling, single_torrent, data)
            c.equal(code, 0, "single: restored data verifies again")

        # ---- multi-file ----------------------------------------------------------------------
        top = "multi tree"
        tree = {
            "a.bin": 40000,
            "a b.txt": 1234,
            "empty.txt": 0,
            "dir one/b with space.dat": 100001,
            "dir one/nested/deeper/c.bin": 70007,
            "ünïcødé-名前.txt": 12345,
            "z/last.bin": 65536 + 3,
        }
        for rel, size in tree.items():
            write_random(os.path.join(data, top, *rel.split("/")), size)
        mpl = 32 * 1024
        multi_torrent = os.path.join(work, "multi.torrent")
        r = run([starling, "create", os.path.join(data, top), "-o", multi_torrent,
                 "--piece-size", "32k", "--no-date", "-q"])
        if c.equal(r.returncode, 0, "create multi (stderr: %s)" % r.stderr.decode().strip()):
            # The layout as the torrent has it (order and offsets), from libtorrent.
            fs = lt.torrent_info(multi_torrent).files()
            files = [(fs.file_path(i), fs.file_size(i), fs.file_offset(i))
                     for i in range(fs.num_files())]
            total = sum(s for _p, s, _o in files)
            n = (total + mpl - 1) // mpl
            expect_result(c, starling, multi_torrent, data, data, n, [], "multi, good data")
            code, j, err = starling_verify(starling, multi_torrent, os.path.join(data, top))
            c.equal((code, j), (0, {"pieces": n, "good": n, "bad": []}),
                    "multi: DATA_PATH is the top folder itself (stderr: %s)" % err.strip())

            # A byte in the middle of a piece that straddles two files.
            straddling = [p for p in range(n)
                          if len({path for path, s, o in files
                                  if s and o < (p + 1) * mpl and o + s > p * mpl}) > 1]
            if c.check(straddling, "test setup: a piece straddles two files"):
                k = straddling[len(straddling) // 2]
                pos = k * mpl + mpl // 2
                path, size, off = next(f for f in files if f[2] <= pos < f[2] + f[1])
                flip_byte(os.path.join(data, path), pos - off)
                expect_result(c, starling, multi_torrent, data, data, n, [k],
                              "multi, byte flipped in piece %d (%s)" % (k, path))
                flip_byte(os.path.join(data, path), pos - off)

            # A file deleted: every piece touching it is bad.
            victim = next(f for f in files if f[0].endswith("b with space.dat"))
            vpath = os.path.join(data, victim[0])
            with open(vpath, "rb") as f:
                saved = f.read()
            bad = pieces_touching(victim[2], victim[1], mpl)
            c.check(victim[2] % mpl and (victim[2] + victim[1]) % mpl,
                    "test setup: the deleted file starts and ends inside pieces")
            os.remove(vpath)
            expect_result(c, starling, multi_torrent, data, data, n, bad,
                          "multi, %s deleted" % victim[0])
            # The empty file deleted too: it holds no piece, so nothing more is bad.
            empty = os.path.join(data, top, "empty.txt")
            os.remove(empty)
            code, j, _ = starling_verify(starling, multi_torrent, data)
            c.equal((code, j), (1, {"pieces": n, "good": n - len(bad), "bad": bad}),
                    "multi, also the empty file deleted")
            open(empty, "wb").close()
            with open(vpath, "wb") as f:
                f.write(saved)

            # A file cut short: the pieces from the cut to the file's end are bad.
            victim = next(f for f in files if f[0].endswith("c.bin"))
            vpath = os.path.join(data, victim[0])
            with open(vpath, "rb") as f:
                saved = f.read()
            keep = victim[1] - 40000
            os.truncate(vpath, keep)
            bad = list(range((victim[2] + keep) // mpl, (victim[2] + victim[1] - 1) // mpl + 1))
            expect_result(c, starling, multi_torrent, data, data, n, bad,
                          "multi, %s cut to %d bytes" % (victim[0], keep))
            with open(vpath, "wb") as f:
                f.write(saved)
            expect_result(c, starling, multi_torrent, data, None, n, [], "multi, data restored")

    return c.summary("test_verify_interop")


if __name__ == "__main__":
    sys.exit(main())
