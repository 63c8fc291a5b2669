#!/usr/bin/env python3
"""Interop test: `starling info --json` reads torrents made by other tools, and rejects bad ones.

Torrents made by mktorrent (single file; multi-file with two tiers, one holding two URLs, the
private flag, a comment and a 'source' key in the info dict) and by libtorrent 2.0 (single and
multi-file hybrid v1+v2 torrents with pad files, and a v1-only multi-file one; each with a tracker
and a url seed) must load with:

  * the same info-hash as libtorrent's info_hashes().v1 and as the SHA-1 of the info dict cut out
    of the file by a small bdecode here;
  * the same name, file list (paths and sizes, in order, pad files included), piece length, piece
    count, total size, private flag, trackers in their tiers and web seeds;
  * and `starling verify` must find the data complete (pad files are zeros, not on disk).

Malformed inputs (truncated, garbage, an empty file, ".." or "a/b" in a path or in the name,
integers with a leading zero, a missing file) must give exit code 2 from `info`, `info --json`
and `verify`, nothing on stdout, and one line on stderr that names the file and, for bencode
errors, says "at byte N" with N at the fault.

Run: /usr/bin/python3 tests/integration/test_load_interop.py --starling build/bin/starling
Exits 0 on success, 1 on any failed check (each one is printed).
"""

import hashlib
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, bdecode_torrent, bencode, lt, run, starling_path,  # noqa: E402
                             temp_dir, write_random)

TRACKER = "http://tracker.example:6969/announce"
WEB_SEED = "http://mirror.example/pub/"


def lt_make(path, piece_length, flags=0):
    """A torrent made by libtorrent's create_torrent of `path`, with a tracker and a url seed."""
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    ct.add_tracker(TRACKER)
    ct.add_url_seed(WEB_SEED)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    return lt.bencode(ct.generate())


def lt_tiers(ti):
    tiers = {}
    for t in ti.trackers():
        tiers.setdefault(t.tier, []).append(t.url)
    return [tiers[k] for k in sorted(tiers)]


def file_tiers(root):
    """BEP 12 tiers as written in the file: 'announce-list', else 'announce'."""
    tiers = [[u.decode() for u in tier if u] for tier in root.get(b"announce-list", [])]
    tiers = [t for t in tiers if t]
    if not tiers and root.get(b"announce"):
        tiers = [[root[b"announce"].decode()]]
    return tiers


def check_loads(c, starling, torrent, label, data_parent):
    with open(torrent, "rb") as f:
        raw = f.read()
    root, info_raw = bdecode_torrent(raw)
    py_hash = hashlib.sha1(info_raw).hexdigest()
    ti = lt.torrent_info(torrent)
    lt_hash = str(ti.info_hashes().v1)
    c.equal(lt_hash, py_hash,
            "%s: libtorrent v1 hash == SHA-1 of the info dict (test setup)" % label)

    r = run([starling, "info", "--json", torrent])
    if not c.equal(r.returncode, 0, "%s: starling info --json exit code (stderr: %s)"
                   % (label, r.stderr.decode(errors="replace").strip())):
        return
    try:
        j = json.loads(r.stdout)
    except ValueError as e:
        c.check(False, "%s: info --json prints one JSON object" % label, str(e))
        return
    c.equal(j.get("info_hash"), lt_hash, "%s: info_hash == libtorrent info_hashes().v1" % label)
    c.equal(j.get("info_hash"), py_hash, "%s: info_hash == SHA-1 of the raw info dict" % label)
    c.equal(j.get("name"), ti.name(), "%s: name" % label)

    fs = ti.files()
    lt_files = [(fs.file_path(i).replace(os.sep, "/"), fs.file_size(i))
                for i in range(fs.num_files())]
    st_files = [(f.get("path"), f.get("size")) for f in j.get("files", [])]
    c.equal(st_files, lt_files, "%s: file paths and sizes" % label)
    c.equal(j.get("num_pieces"), ti.num_pieces(), "%s: piece count" % label)
    c.equal(j.get("piece_length"), ti.piece_length(), "%s: piece length" % label)
    c.equal(j.get("total_size"), ti.total_size(), "%s: total size" % label)
    c.equal(j.get("private"), ti.priv(), "%s: private flag" % label)
    # libtorrent shuffles the URLs inside a tier (BEP 12), so compare tiers as sets.
    c.equal([sorted(tier) for tier in j.get("trackers", [])], [sorted(t) for t in lt_tiers(ti)],
            "%s: trackers and tiers" % label)
    c.equal(j.get("trackers"), file_tiers(root), "%s: trackers in the file's order" % label)
    c.equal(j.get("web_seeds"), [w["url"] for w in ti.web_seeds()], "%s: web seeds" % label)

    r = run([starling, "verify", "--json", torrent, data_parent])
    ok = r.returncode == 0
    try:
        v = json.loads(r.stdout)
    except ValueError:
        v = None
    c.check(ok and v == {"pieces": ti.num_pieces(), "good": ti.num_pieces(), "bad": []},
            "%s: starling verify finds the data complete" % label,
            "exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout[:300], r.stderr[:300]))
    return j


def check_rejected(c, starling, path, label, bencode_offset=None, offset_slack=0):
    """Exit 2, one line on stderr naming the file; 'at byte N' for bencode errors."""
    for cmd in ([starling, "info", path], [starling, "info", "--json", path],
                [starling, "verify", "--json", path, os.path.dirname(path)]):
        shown = ["FILE" if a == path else "DIR" if a == os.path.dirname(path) else a
                 for a in cmd[1:]]
        what = "%s: `starling %s`" % (label, " ".join(shown))
        r = run(cmd)
        err = r.stderr.decode(errors="replace")
        c.equal(r.returncode, 2, what + " exit code (stderr: %s)" % err.strip())
        c.equal(r.stdout, b"", what + " prints nothing on stdout")
        lines = err.rstrip("\n").split("\n")
        c.check(len(lines) == 1 and lines[0].strip() != "", what + " one line on stderr", repr(err))
        c.check(path in err, what + " stderr names the file", "%r not in %r" % (path, err))
        if bencode_offset is not None:
            m = re.search(r"at byte (\d+)", err)
            if c.check(m is not None, what + " stderr says 'at byte N'", repr(err)):
                n = int(m.group(1))
                c.check(bencode_offset <= n <= bencode_offset + offset_slack,
                        what + " byte offset points at the fault",
                        "reported %d, fault at %d..%d" % (n, bencode_offset,
                                                          bencode_offset + offset_slack))


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    if shutil.which("mktorrent") is None:
        print("FAIL: mktorrent is not installed (apt-get install mktorrent)", file=sys.stderr)
        return 1
    c = Checker()
    with temp_dir("starling-load-interop-") as work:
        data = os.path.join(work, "data")
        single_name = "single file ü.bin"
        single = os.path.join(data, single_name)
        write_random(single, 1024 * 1024 + 777)
        top = "multi tree"
        multi = os.path.join(data, top)
        for rel, size in {
            "a.bin": 40000,
            "empty": 0,
            "dir one/b with space.dat": 30001,
            "dir one/nested/deeper/c.bin": 70007,
            "ünïcødé-名前.txt": 12345,
            "z/last.bin": 65536 + 3,
        }.items():
            write_random(os.path.join(multi, *rel.split("/")), size)

        torrents = os.path.join(work, "torrents")
        os.makedirs(torrents)
        made = []

        # mktorrent, single file: one tracker, one web seed (url-list as a plain string).
        out = os.path.join(torrents, "mk-single.torrent")
        r = run(["mktorrent", "-l", "15", "-a", TRACKER, "-w", WEB_SEED, "-o", out, single])
        if c.equal(r.returncode, 0, "mktorrent single (stderr: %s)" % r.stderr.decode().strip()):
            made.append(("mktorrent single", out))
        # mktorrent, multi-file: tiers [[t1, t2], [t3]], private, comment, 'source' in info.
        out = os.path.join(torrents, "mk-multi.torrent")
        r = run(["mktorrent", "-l", "15", "-a", TRACKER + ",udp://second.example:80/announce",
                 "-a", "http://backup.example/announce", "-p", "-c", "made by mktorrent",
                 "-s", "INTEROP", "-o", out, multi])
        if c.equal(r.returncode, 0, "mktorrent multi (stderr: %s)" % r.stderr.decode().strip()):
            made.append(("mktorrent multi", out))
            root, _ = bdecode_torrent(open(out, "rb").read())
            c.check(b"source" in root[b"info"] and root[b"info"].get(b"private") == 1,
                    "test setup: mktorrent put 'source' and 'private' in the info dict")
        # libtorrent: hybrid (v1+v2, pad files) single and multi, and v1-only multi.
        for label, path, flags, name in (
                ("libtorrent single (hybrid)", single, 0, "lt-single.torrent"),
                ("libtorrent multi (hybrid, pad files)", multi, 0, "lt-multi.torrent"),
                ("libtorrent multi (v1 only)", multi, lt.create_torrent.v1_only,
                 "lt-multi-v1.torrent")):
            out = os.path.join(torrents, name)
            with open(out, "wb") as f:
                f.write(lt_make(path, 32768, flags))
            made.append((label, out))
        ti = lt.torrent_info(os.path.join(torrents, "lt-multi.torrent"))
        c.check(any(ti.files().file_flags(i) & lt.file_storage.flag_pad_file
                    for i in range(ti.files().num_files())),
                "test setup: libtorrent's hybrid multi-file torrent has pad files")

        for label, path in made:
            j = check_loads(c, starling, path, label, data)
            if j is not None and label == "mktorrent multi":
                c.equal(j.get("trackers"), [[TRACKER, "udp://second.example:80/announce"],
                                            ["http://backup.example/announce"]],
                        "mktorrent multi: tiers as given")
                c.equal(j.get("private"), True, "mktorrent multi: private")
                c.equal(j.get("comment"), "made by mktorrent", "mktorrent multi: comment")
            if j is not None and label == "mktorrent single":
                c.equal(j.get("web_seeds"), [WEB_SEED], "mktorrent single: url-list as a string")
                c.equal(j.get("files"), [{"path": single_name, "size": 1024 * 1024 + 777}],
                        "mktorrent single: file")

        # ---- malformed inputs ---------------------------------------------------------------
        bad = os.path.join(work, "bad inputs")
        os.makedirs(bad)

        def put(name, content):
            p = os.path.join(bad, name)
            with open(p, "wb") as f:
                f.write(content)
            return p

        good = open(os.path.join(torrents, "mk-multi.torrent"), "rb").read()
        check_rejected(c, starling, put("truncated.torrent", good[:len(good) // 2]), "truncated",
                       bencode_offset=0, offset_slack=len(good) // 2)
        check_rejected(c, starling, put("cut-at-end.torrent", good[:-1]), "last byte missing",
                       bencode_offset=0, offset_slack=len(good))
        check_rejected(c, starling, put("garbage.torrent", b"<html><body>404</body></html>\n"),
                       "garbage text", bencode_offset=0)
        check_rejected(c, starling, put("binary.torrent", bytes(range(256)) * 4), "binary garbage",
                       bencode_offset=0)
        check_rejected(c, starling, put("empty.torrent", b""), "empty file", bencode_offset=0)

        def multi_torrent(paths, name=b"x", piece_length=b"i32768e", lengths=None):
            lengths = lengths or [b"i5e"] * len(paths)
            files = b"".join(b"d6:length" + ln + b"4:path" + bencode(p) + b"e"
                             for p, ln in zip(paths, lengths))
            pieces = b"\x11" * 20
            return (b"d8:announce" + bencode(TRACKER) + b"4:infod5:filesl" + files + b"e4:name"
                    + bencode(name) + b"12:piece length" + piece_length + b"6:pieces"
                    + bencode(pieces) + b"ee")

        # Sanity: the same shapes with safe values load (so the rejections below are for the
        # reason under test).
        ok_path = put("control.torrent", multi_torrent([[b"ok", b"file.bin"]]))
        r = run([starling, "info", "--json", ok_path])
        c.equal(r.returncode, 0, "control torrent loads (stderr: %s)" % r.stderr.decode().strip())
        check_rejected(c, starling, put("dotdot.torrent", multi_torrent([[b"..", b"evil.bin"]])),
                       "path with '..'")
        check_rejected(c, starling,
                       put("dotdot-deep.torrent", multi_torrent([[b"ok", b"..", b"..", b"x"]])),
                       "path with '..' deeper down")
        check_rejected(c, starling, put("slash.torrent", multi_torrent([[b"a/../../b"]])),
                       "path component with '/'")
        check_rejected(c, starling, put("dotdot-name.torrent",
                                        multi_torrent([[b"f"]], name=b"..")), "name '..'")
        lz = multi_torrent([[b"f"]], piece_length=b"i032768e")
        check_rejected(c, starling, put("leading-zero.torrent", lz),
                       "leading zero in 'piece length'",
                       bencode_offset=lz.index(b"i032768e"), offset_slack=1)
        lz = multi_torrent([[b"f"]], lengths=[b"i05e"])
        check_rejected(c, starling, put("leading-zero-length.torrent", lz),
                       "leading zero in a file length",
                       bencode_offset=lz.index(b"i05e"), offset_slack=1)
        lz = multi_torrent([[b"f"]]).replace(b"8:announce", b"08:announce")
        check_rejected(c, starling, put("leading-zero-strlen.torrent", lz),
                       "leading zero in a string length", bencode_offset=1, offset_slack=1)
        missing = os.path.join(bad, "does not exist.torrent")
        check_rejected(c, starling, missing, "missing file")

    return c.summary("test_load_interop")


if __name__ == "__main__":
    sys.exit(main())
