#!/usr/bin/env python3
"""Requests for runs of blocks: what a starling leecher asks of which peer.

A scripted seed (this script) serves the data over TCP and records every REQUEST it gets.
1. Calling itself "starling/..." in its BEP 10 handshake, it gets requests for runs of
   consecutive blocks (more than 16 KiB, at most 128 KiB, inside one piece) and answers each
   with one PIECE message: the download completes byte-identical.
2. With any other client name it gets only single blocks (16 KiB, or the short last block).
3. As "starling/..." with the fast extension, it rejects its first run: the leecher asks for
   those blocks again and completes byte-identical.
Every process and thread is bounded by a timeout.
"""

import filecmp
import os
import socket
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, bencode, read_exact, starling_path,  # noqa: E402
                            temp_dir, write_random)

DEADLINE = 60
PIECE = 256 * 1024
SIZE = 3 * 1024 * 1024 + 5000  # a short last piece and a short last block
BLOCK = 16 * 1024


class ScriptedSeed:
    """Accepts one connection and serves `data`, recording each request's (index, begin, length)."""

    def __init__(self, data, client_name, reject_first_run=False):
        self.data = data
        self.client_name = client_name
        self.reject_first_run = reject_first_run
        self.requests = []
        self.rejected = None
        self.error = None
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(DEADLINE)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError as e:
            self.error = "no connection: %s" % e
            return
        conn.settimeout(DEADLINE)
        try:
            theirs = read_exact(conn, 68)
            reserved = bytearray(8)
            reserved[5] |= 0x10  # BEP 10 extension protocol
            if self.reject_first_run:
                reserved[7] |= 0x04  # BEP 6 fast extension (reject)
            conn.sendall(theirs[:20] + bytes(reserved) + theirs[28:48] + b"-XX0001-" +
                         os.urandom(12))
            handshake = bencode({b"m": {}, b"v": self.client_name.encode()})
            conn.sendall(struct.pack(">IBB", 2 + len(handshake), 20, 0) + handshake)
            pieces = (len(self.data) + PIECE - 1) // PIECE
            if self.reject_first_run:
                conn.sendall(struct.pack(">IB", 1, 14))  # have all
            else:
                bits = bytearray(b"\xff" * ((pieces + 7) // 8))
                bits[-1] &= (0xff << (len(bits) * 8 - pieces)) & 0xff
                conn.sendall(struct.pack(">IB", 1 + len(bits), 5) + bytes(bits))
            conn.sendall(struct.pack(">IB", 1, 1))  # unchoke
            while True:
                length = struct.unpack(">I", read_exact(conn, 4))[0]
                body = read_exact(conn, length) if length else b""
                if body[:1] != b"\x06":  # only requests matter here
                    continue
                index, begin, size = struct.unpack(">III", body[1:13])
                self.requests.append((index, begin, size))
                if self.reject_first_run and self.rejected is None and size > BLOCK:
                    self.rejected = (index, begin, size)
                    conn.sendall(struct.pack(">IBIII", 13, 16, index, begin, size))
                    continue
                at = index * PIECE + begin
                conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) +
                             self.data[at:at + size])
        except (ConnectionError, OSError):
            pass  # the leecher is done and has closed
        finally:
            conn.close()
            self.listener.close()


def download(starling, torrent, out, seed):
    return subprocess.run([starling, "download", torrent, "-o", out, "-q", "--tcp-only",
                           "--peer", "127.0.0.1:%d" % seed.port, "--listen", "127.0.0.1:0",
                           "--timeout", str(DEADLINE)],
                          capture_output=True, text=True, timeout=DEADLINE + 10)


def within_a_piece(request):
    index, begin, size = request
    return begin % BLOCK == 0 and begin + size <= min(PIECE, SIZE - index * PIECE)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-block-runs-") as work:
        data_path = os.path.join(work, "seed", "payload.bin")
        write_random(data_path, SIZE)
        with open(data_path, "rb") as f:
            data = f.read()
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([starling, "create", data_path, "-o", torrent, "--piece-size", "256k",
                        "-q"], check=True, timeout=60)

        for case, name, reject in (("starling peer", "starling/0.0-test", False),
                                   ("other client", "Transmission 4.0.5", False),
                                   ("starling peer rejecting a run", "starling/0.0-test", True)):
            seed = ScriptedSeed(data, name, reject_first_run=reject)
            out = os.path.join(work, case.replace(" ", "-"))
            try:
                r = download(starling, torrent, out, seed)
            finally:
                seed.thread.join(timeout=10)
            c.equal(r.returncode, 0, "%s: exit code (%s)" % (case, r.stderr.strip()[-300:]))
            c.check(filecmp.cmp(data_path, os.path.join(out, "payload.bin"), shallow=False),
                    "%s: the download is identical" % case)
            sizes = [size for _, _, size in seed.requests]
            c.check(all(within_a_piece(r) for r in seed.requests),
                    "%s: every request lies inside one piece, block-aligned" % case)
            if name.startswith("starling/"):
                c.check(max(sizes) > BLOCK and max(sizes) <= 128 * 1024,
                        "%s: runs of blocks are asked for in one request" % case,
                        "largest request %d bytes" % max(sizes))
                c.check(len(seed.requests) < SIZE // BLOCK // 2,
                        "%s: far fewer requests than blocks" % case,
                        "%d requests for %d blocks" % (len(seed.requests), SIZE // BLOCK))
            else:
                c.check(max(sizes) <= BLOCK,
                        "%s: only single blocks are asked for" % case,
                        "largest request %d bytes" % max(sizes))
            if reject:
                c.check(seed.rejected is not None, "%s: a run was rejected" % case)
                if seed.rejected is not None:
                    index, begin, size = seed.rejected
                    again = [r for r in seed.requests[seed.requests.index(seed.rejected) + 1:]
                             if r[0] == index and r[1] < begin + size and begin < r[1] + r[2]]
                    c.check(again, "%s: the rejected blocks were asked for again" % case)
    return c.summary("test_block_runs")


if __name__ == "__main__":
    sys.exit(main())
