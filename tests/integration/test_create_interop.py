#!/usr/bin/env python3
"""Interop test: torrents made by `starling create` read the same in libtorrent.

Makes a single-file tree (~3 MB of random bytes, odd size) and a multi-file tree (nested folders,
an empty file, files whose sizes make pieces cross file boundaries, names with a space and UTF-8),
runs `starling create` on each and checks, against libtorrent 2.0 (`lt.torrent_info`), against
`starling info --json` and against a small bdecode of the file itself:

  * the v1 info-hash (libtorrent == `info --json` == SHA-1 of the raw info dict);
  * the file paths (libtorrent's files().file_path(i)) and sizes, in the torrent's order, which
    must be the bytewise order of the '/'-joined paths (CLI.md) and match what is on disk;
  * piece count and piece length (32 KiB when asked, the documented default otherwise), and every
    piece hash recomputed from the data;
  * trackers (one tier each, BEP 12), web seeds (BEP 19), private flag, comment;
  * that libtorrent, given the same file list and piece size, encodes a byte-identical info dict;
  * pieces larger than the hasher's 1 MiB read chunk (2 MiB), and one piece longer than the data;
  * bad usage (piece size not a power of two, below 16 KiB, a missing source): exit code 2, one
    line on stderr, no output file;
  * `--no-date`: two runs give byte-identical files without a 'creation date' key, and the same
    info-hash as a dated run.

Run: /usr/bin/python3 tests/integration/test_create_interop.py --starling build/bin/starling
Exits 0 on success, 1 on any failed check (each one is printed). A missing libtorrent is a failure
too: the reference tools are part of the test machine (see docs/TESTING.md).
"""

import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (BencodeError, Checker, bdecode_torrent, bdecode_value,  # noqa: E402
                             bencode, lt, run, starling_path, temp_dir, write_random)

TRACKERS = ["http://tracker-one.example:6969/announce", "udp://tracker-two.example:1337/announce"]
WEB_SEED = "http://seed.example/files/"
COMMENT = "interop test: ünïcødé comment"


def disk_files(root):
    """{relative '/'-joined path: size} of every regular file below root."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = os.path.getsize(full)
    return out


def piece_hashes(paths, piece_length):
    """SHA-1 of each piece of the concatenation of `paths`, read in order."""
    hashes = []
    buf = bytearray()
    for p in paths:
        with open(p, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= piece_length:
                    hashes.append(hashlib.sha1(bytes(buf[:piece_length])).digest())
                    del buf[:piece_length]
    if buf:
        hashes.append(hashlib.sha1(bytes(buf)).digest())
    return hashes


def starling_info(c, starling, torrent):
    r = run([starling, "info", "--json", torrent])
    if not c.equal(r.returncode, 0, "starling info --json %s exit code (stderr: %s)"
                   % (torrent, r.stderr.decode(errors="replace").strip())):
        return None
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        c.check(False, "starling info --json prints one JSON object",
                "%s: %r" % (e, r.stdout[:300]))
        return None


def lt_reference_info(files, piece_length, is_private, base_dir, single):
    """What libtorrent encodes as the v1 info dict for exactly this file list (no pads)."""
    fs = lt.file_storage()
    for path, size in files:
        fs.add_file(path, size)
    ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    ct.set_priv(is_private)
    lt.set_piece_hashes(ct, base_dir)
    info = ct.generate()[b"info"]
    if single:
        assert b"files" not in info
    return lt.bencode(info)


def check_torrent(c, starling, torrent, label, *, single, data_root, name, expect_files,
                  piece_length, trackers, web_seeds, is_private, comment, dated):
    """Common checks for a torrent made by starling.

    expect_files: [(path starting with the torrent's name, size)] in the expected order; each
    file is found at data_root/path.
    """
    with open(torrent, "rb") as f:
        raw = f.read()
    try:
        root, info_raw = bdecode_torrent(raw)
    except (BencodeError, ValueError) as e:
        c.check(False, "%s: the .torrent bdecodes" % label, str(e))
        return
    if not c.check(info_raw is not None, "%s: has an 'info' dict" % label):
        return
    info, _ = bdecode_value(info_raw, 0)
    c.equal(bencode(info), info_raw, "%s: info dict is canonical bencode" % label)
    raw_hash = hashlib.sha1(info_raw).hexdigest()

    ti = lt.torrent_info(torrent)
    lt_hash = str(ti.info_hashes().v1)
    j = starling_info(c, starling, torrent)
    if j is None:
        return

    # Info-hash three ways.
    c.equal(lt_hash, raw_hash, "%s: libtorrent v1 info-hash == SHA-1 of raw info dict" % label)
    c.equal(j.get("info_hash"), lt_hash,
            "%s: starling info_hash == libtorrent v1 info-hash" % label)
    c.check(not ti.info_hashes().has_v2(), "%s: v1-only torrent (no v2 hash)" % label)

    # Name and keys of the info dict.
    c.equal(ti.name(), name, "%s: libtorrent name" % label)
    c.equal(j.get("name"), name, "%s: starling name" % label)
    want_keys = {b"name", b"piece length", b"pieces", b"length" if single else b"files"}
    if is_private:
        want_keys.add(b"private")
    c.equal(set(info.keys()), want_keys, "%s: info dict keys" % label)

    # Files, in order.
    fs = ti.files()
    lt_files = [(fs.file_path(i).replace(os.sep, "/"), fs.file_size(i))
                for i in range(fs.num_files())]
    lt_pads = [i for i in range(fs.num_files()) if fs.file_flags(i) & lt.file_storage.flag_pad_file]
    c.equal(lt_pads, [], "%s: no pad files" % label)
    c.equal(lt_files, expect_files, "%s: libtorrent file paths and sizes" % label)
    st_files = [(f.get("path"), f.get("size")) for f in j.get("files", [])]
    c.equal(st_files, expect_files, "%s: starling info file paths and sizes" % label)
    total = sum(size for _p, size in expect_files)
    c.equal(ti.total_size(), total, "%s: libtorrent total size" % label)
    c.equal(j.get("total_size"), total, "%s: starling total_size" % label)

    # Pieces.
    c.equal(ti.piece_length(), piece_length, "%s: libtorrent piece length" % label)
    c.equal(j.get("piece_length"), piece_length, "%s: starling piece_length" % label)
    n = (total + piece_length - 1) // piece_length
    c.equal(ti.num_pieces(), n, "%s: libtorrent piece count" % label)
    c.equal(j.get("num_pieces"), n, "%s: starling num_pieces" % label)
    want_hashes = piece_hashes([os.path.join(data_root, *p.split("/")) for p, _s in expect_files],
                               piece_length)
    lt_hashes = [ti.hash_for_piece(i) for i in range(ti.num_pieces())]
    wrong = [i for i in range(min(len(lt_hashes), len(want_hashes)))
             if lt_hashes[i] != want_hashes[i]]
    c.check(len(lt_hashes) == len(want_hashes) and not wrong,
            "%s: every piece hash matches the data" % label,
            "%d/%d hashes, wrong at %s" % (len(lt_hashes), len(want_hashes), wrong[:10]))

    # Same info dict as libtorrent makes for the same files and piece size.
    ref = lt_reference_info([(p, s) for p, s in expect_files], piece_length, is_private, data_root,
                            single)
    c.equal(hashlib.sha1(ref).hexdigest(), lt_hash,
            "%s: libtorrent's own info dict for the same files has the same info-hash" % label)

    # Trackers: one tier each.
    lt_trackers = sorted((t.url, t.tier) for t in ti.trackers())
    c.equal(lt_trackers, [(u, i) for i, u in enumerate(trackers)],
            "%s: libtorrent trackers/tiers" % label)
    c.equal(j.get("trackers"), [[u] for u in trackers], "%s: starling trackers/tiers" % label)
    if trackers:
        c.equal(root.get(b"announce"), trackers[0].encode(),
                "%s: 'announce' is the first tracker" % label)
    if len(trackers) > 1:
        c.equal(root.get(b"announce-list"), [[u.encode()] for u in trackers],
                "%s: 'announce-list' one tier per tracker" % label)

    # Web seeds.
    c.equal([w["url"] for w in ti.web_seeds()], web_seeds, "%s: libtorrent url seeds" % label)
    c.equal(j.get("web_seeds"), web_seeds, "%s: starling web_seeds" % label)

    # Private flag, comment, date.
    c.equal(ti.priv(), is_private, "%s: libtorrent private flag" % label)
    c.equal(j.get("private"), is_private, "%s: starling private" % label)
    c.equal(ti.comment(), comment, "%s: libtorrent comment" % label)
    if dated:
        date = root.get(b"creation date")
        c.check(isinstance(date, int) and abs(date - time.time()) < 86400,
                "%s: 'creation date' is about now" % label, repr(date))
    else:
        c.check(b"creation date" not in root, "%s: no 'creation date' key" % label)


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    c = Checker()
    with temp_dir("starling-create-interop-") as work:
        # ---- single file, default piece size, two trackers, a web seed ----------------------
        single_dir = os.path.join(work, "single")
        single_name = "random data.bin"
        single_size = 3 * 1024 * 1024 + 12345
        write_random(os.path.join(single_dir, single_name), single_size)
        single_torrent = os.path.join(work, "single.torrent")
        cmd = [starling, "create", os.path.join(single_dir, single_name), "-o", single_torrent,
               "-q"]
        for t in TRACKERS:
            cmd += ["-t", t]
        cmd += ["-w", WEB_SEED]
        r = run(cmd)
        if c.equal(r.returncode, 0, "create single-file exit code (stderr: %s)"
                   % r.stderr.decode(errors="replace").strip()):
            ti = lt.torrent_info(single_torrent)
            pl = ti.piece_length()
            # CLI.md: default from the total size, 16 KiB..16 MiB, about 1,000-2,000 pieces.
            c.check(pl & (pl - 1) == 0 and 16 << 10 <= pl <= 16 << 20,
                    "single: default piece length is a power of two in 16k..16m", str(pl))
            n = (single_size + pl - 1) // pl
            c.check(n <= 2000 or pl == 16 << 20, "single: default gives at most ~2,000 pieces",
                    "%d pieces of %d" % (n, pl))
            c.check(pl == 16 << 10 or (single_size + pl // 2 - 1) // (pl // 2) > 2000,
                    "single: default piece length is not larger than needed",
                    "%d pieces of %d" % (n, pl))
            check_torrent(c, starling, single_torrent, "single", single=True, data_root=single_dir,
                          name=single_name, expect_files=[(single_name, single_size)],
                          piece_length=pl, trackers=TRACKERS, web_seeds=[WEB_SEED],
                          is_private=False, comment="", dated=True)

        # ---- multi-file, 32 KiB pieces, private, comment ------------------------------------
        multi_parent = os.path.join(work, "multi")
        top = "top dir ü"
        tree = {
            "a.bin": 40000,                      # crosses the first piece boundary
            "a b.txt": 1234,                     # ' ' sorts before '.' and '/'
            "a/inner.bin": 5000,                 # folder "a" next to files "a.bin", "a b.txt"
            "empty.txt": 0,                      # empty file in the middle
            "dir one/b with space.dat": 30001,
            "dir one/nested/deeper/c.bin": 70007,
            "dir one/nested/zero": 0,
            "ünïcødé-名前.txt": 12345,
            "exactly-32k.bin": 32768,
            "z/last.bin": 99999,
            "0 empty first": 0,                  # empty files at both ends of the layout
            "zz-empty-last": 0,
        }
        for rel, size in tree.items():
            write_random(os.path.join(multi_parent, top, *rel.split("/")), size)
        expect = sorted(((top + "/" + rel).encode(), size) for rel, size in tree.items())
        expect = [(p.decode(), s) for p, s in expect]
        on_disk = {top + "/" + p: s for p, s in disk_files(os.path.join(multi_parent, top)).items()}
        c.equal(dict(expect), on_disk, "test setup: tree on disk")
        multi_torrent = os.path.join(work, "multi.torrent")
        cmd = [starling, "create", os.path.join(multi_parent, top), "-o", multi_torrent,
               "--piece-size", "32k", "--private", "--comment", COMMENT, "-q"]
        for t in TRACKERS:
            cmd += ["-t", t]
        cmd += ["-w", WEB_SEED]
        r = run(cmd)
        if c.equal(r.returncode, 0, "create multi-file exit code (stderr: %s)"
                   % r.stderr.decode(errors="replace").strip()):
            check_torrent(c, starling, multi_torrent, "multi", single=False,
                          data_root=multi_parent, name=top,
                          expect_files=expect, piece_length=32768, trackers=TRACKERS,
                          web_seeds=[WEB_SEED], is_private=True, comment=COMMENT, dated=True)
            # Pieces really do straddle files (the test is only meaningful if they do).
            offsets, pos = [], 0
            for _p, s in expect:
                offsets.append(pos)
                pos += s
            c.check(any(o % 32768 != 0 for o in offsets if o < pos),
                    "test setup: some file starts inside a piece")
            j = starling_info(c, starling, multi_torrent)
            if j is not None:
                c.equal(j.get("comment"), COMMENT, "multi: starling comment")

        # ---- pieces larger than the hasher's read chunk, and a single short piece -------------
        for label, src, single, name, files, size_flag, pl in (
                ("single, 2 MiB pieces", os.path.join(single_dir, single_name), True, single_name,
                 [(single_name, single_size)], "2m", 2 << 20),
                ("multi, one 4 MiB piece", os.path.join(multi_parent, top), False, top, expect,
                 "4M", 4 << 20)):
            out = os.path.join(work, "variant.torrent")
            r = run([starling, "create", src, "-o", out, "--piece-size", size_flag, "--threads",
                     "3", "-q"])
            if c.equal(r.returncode, 0, "create %s exit code (stderr: %s)"
                       % (label, r.stderr.decode(errors="replace").strip())):
                check_torrent(c, starling, out, label, single=single,
                              data_root=single_dir if single else multi_parent, name=name,
                              expect_files=files, piece_length=pl, trackers=[], web_seeds=[],
                              is_private=False, comment="", dated=True)
            if os.path.exists(out):
                os.remove(out)

        # ---- bad usage gives exit code 2 ------------------------------------------------------
        for label, cmd in (
                ("piece size not a power of two", ["--piece-size", "24k"]),
                ("piece size below 16 KiB", ["--piece-size", "8k"]),
                ("missing source", None)):
            src = os.path.join(single_dir, single_name) if cmd is not None else \
                os.path.join(work, "no such file")
            out = os.path.join(work, "bad.torrent")
            r = run([starling, "create", src, "-o", out] + (cmd or []))
            err = r.stderr.decode(errors="replace")
            c.equal(r.returncode, 2, "create, %s: exit code 2 (stderr: %s)" % (label, err.strip()))
            c.check(len(err.strip().splitlines()) == 1, "create, %s: one line on stderr" % label,
                    repr(err))
            c.check(not os.path.exists(out), "create, %s: no output file" % label)

        # ---- --no-date: deterministic output -------------------------------------------------
        outs = []
        for k in range(2):
            out = os.path.join(work, "nodate-%d.torrent" % k)
            cmd = [starling, "create", os.path.join(multi_parent, top), "-o", out, "--no-date",
                   "--piece-size", "32k", "--private", "--comment", COMMENT, "-q"]
            for t in TRACKERS:
                cmd += ["-t", t]
            cmd += ["-w", WEB_SEED]
            r = run(cmd)
            c.equal(r.returncode, 0, "create --no-date run %d exit code (stderr: %s)"
                    % (k, r.stderr.decode(errors="replace").strip()))
            if k == 0:
                time.sleep(1.1)  # a clock-dependent field would now differ
            outs.append(out)
        if all(os.path.exists(o) for o in outs):
            with open(outs[0], "rb") as f0, open(outs[1], "rb") as f1:
                b0, b1 = f0.read(), f1.read()
            c.check(b0 == b1, "--no-date: two runs give byte-identical files",
                    "%d vs %d bytes" % (len(b0), len(b1)))
            root, info_raw = bdecode_torrent(b0)
            c.check(b"creation date" not in root, "--no-date: no 'creation date' key",
                    repr(sorted(root.keys())))
            check_torrent(c, starling, outs[0], "multi --no-date", single=False,
                          data_root=multi_parent, name=top,
                          expect_files=expect, piece_length=32768, trackers=TRACKERS,
                          web_seeds=[WEB_SEED], is_private=True, comment=COMMENT, dated=False)
            if os.path.exists(multi_torrent):
                _r, dated_info = bdecode_torrent(open(multi_torrent, "rb").read())
                c.equal(hashlib.sha1(info_raw).hexdigest(), hashlib.sha1(dated_info).hexdigest(),
                        "--no-date: same info-hash as the dated torrent")
        # Single file with --no-date, no trackers: also deterministic.
        outs = []
        for k in range(2):
            out = os.path.join(work, "nodate-single-%d.torrent" % k)
            r = run([starling, "create", os.path.join(single_dir, single_name), "-o", out,
                     "--no-date", "-q"])
            c.equal(r.returncode, 0, "create single --no-date exit code")
            outs.append(out)
        if all(os.path.exists(o) for o in outs):
            b0, b1 = open(outs[0], "rb").read(), open(outs[1], "rb").read()
            c.check(b0 == b1, "--no-date single: byte-identical files")
            c.check(b"creation date" not in bdecode_torrent(b0)[0],
                    "--no-date single: no 'creation date' key")

    return c.summary("test_create_interop")


if __name__ == "__main__":
    sys.exit(main())
