#!/usr/bin/env python3
"""Bad peers and interrupted downloads.

1. Hostile peer: a fake peer on 127.0.0.2 claims every piece and answers every request with
   random bytes, next to an honest starling seed on 127.0.0.1. The download still completes
   byte-identical, and the hostile address is banned (the honest one is not).
2. Resume: a leecher fetches half the pieces from a peer that has only that half, is killed with
   SIGKILL, and restarted against a full seed: it finishes byte-identical and downloads only
   about the missing half again.
Every process and thread is bounded by a timeout.
"""

import filecmp
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, read_exact,  # noqa: E402
                             starling_path, stop_process, temp_dir, write_half,
                             write_random)

DEADLINE = 60
PIECE = 64 * 1024
SIZE = 4 * 1024 * 1024 + 777


def hostile_peer(listener, num_pieces, stop):
    """Serves random bytes for every request until `stop` is set."""
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve_garbage, args=(conn, num_pieces, stop), daemon=True).start()


def serve_garbage(conn, num_pieces, stop):
    conn.settimeout(1.0)
    try:
        theirs = read_exact(conn, 68)
        conn.sendall(theirs[:28] + theirs[28:48] + b"-XX0001-" + os.urandom(12))
        bits = bytearray(b"\xff" * ((num_pieces + 7) // 8))
        spare = len(bits) * 8 - num_pieces
        if spare:
            bits[-1] &= (0xff << spare) & 0xff
        conn.sendall(struct.pack(">IB", 1 + len(bits), 5) + bytes(bits))
        conn.sendall(struct.pack(">IB", 1, 1))  # unchoke
        while not stop.is_set():
            try:
                length = struct.unpack(">I", read_exact(conn, 4))[0]
            except socket.timeout:
                continue
            body = read_exact(conn, length) if length else b""
            if body[:1] == b"\x06":  # request
                index, begin, size = struct.unpack(">III", body[1:13])
                conn.sendall(struct.pack(">IBII", 9 + size, 7, index, begin) + os.urandom(size))
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()






def hostile_test(c, starling, work, data, torrent):
    num_pieces = (SIZE + PIECE - 1) // PIECE
    seed_port = free_port()
    seed = subprocess.Popen([starling, "seed", torrent, os.path.dirname(data), "--listen",
                             "127.0.0.1:%d" % seed_port, "--seed-time", str(DEADLINE), "-q"])
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(8)
    stop = threading.Event()
    thread = threading.Thread(target=hostile_peer, args=(listener, num_pieces, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        out = os.path.join(work, "hostile")
        # The hostile peer comes first so it surely gets requests; it speaks TCP only, and with
        # uTP tried first the honest seed would have served everything before TCP was dialled.
        r = subprocess.run([starling, "download", torrent, "-o", out, "-v", "--tcp-only",
                            "--peer", "127.0.0.2:%d" % listener.getsockname()[1],
                            "--peer", "127.0.0.1:%d" % seed_port,
                            "--listen", "127.0.0.1:0", "--timeout", str(DEADLINE)],
                           capture_output=True, text=True, timeout=DEADLINE + 10)
        c.equal(r.returncode, 0, "download next to a hostile peer: exit code")
        c.check(filecmp.cmp(data, os.path.join(out, "payload.bin"), shallow=False),
                "download next to a hostile peer is identical")
        c.check("failed the hash check" in r.stderr, "corrupt pieces were detected",
                r.stderr[-500:])
        c.check("banning 127.0.0.2" in r.stderr, "the hostile peer is banned", r.stderr[-800:])
        c.check("banning 127.0.0.1" not in r.stderr, "the honest seed is not banned")
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        stop_process(seed)




def resume_test(c, starling, work, data, torrent):
    # A "half seed": a starling leecher holding the even pieces, which can never finish alone.
    half_dir = os.path.join(work, "half")
    write_half(data, os.path.join(half_dir, "payload.bin"), PIECE)
    half_port = free_port()
    half = subprocess.Popen([starling, "download", torrent, "-o", half_dir, "--listen",
                             "127.0.0.1:%d" % half_port, "-q", "--timeout", str(DEADLINE)])
    out = os.path.join(work, "resumed")
    leecher = None
    try:
        time.sleep(0.5)
        leecher = subprocess.Popen([starling, "download", torrent, "-o", out, "--json",
                                    "--peer", "127.0.0.1:%d" % half_port, "--listen",
                                    "127.0.0.1:0", "--timeout", str(DEADLINE)],
                                   stdout=subprocess.PIPE, text=True)
        # Wait until it has every even piece (about half the bytes), then kill it hard.
        got_half = False
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            line = leecher.stdout.readline()
            if not line:
                break
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("done", 0) >= SIZE // 2 - PIECE:
                got_half = True
                break
        c.check(got_half, "the first run got about half of the data")
        leecher.send_signal(signal.SIGKILL)
        leecher.communicate(timeout=10)
    finally:
        stop_process(half)
        if leecher is not None and leecher.poll() is None:
            leecher.kill()
            leecher.communicate()
    seed_port = free_port()
    seed = subprocess.Popen([starling, "seed", torrent, os.path.dirname(data), "--listen",
                             "127.0.0.1:%d" % seed_port, "--seed-time", str(DEADLINE), "-q"])
    try:
        time.sleep(0.3)
        r = subprocess.run([starling, "download", torrent, "-o", out, "--json",
                            "--peer", "127.0.0.1:%d" % seed_port, "--listen", "127.0.0.1:0",
                            "--timeout", str(DEADLINE)],
                           capture_output=True, text=True, timeout=DEADLINE + 10)
        c.equal(r.returncode, 0, "the restarted download: exit code (%s)" % r.stderr.strip())
        c.check(filecmp.cmp(data, os.path.join(out, "payload.bin"), shallow=False),
                "the restarted download is identical")
        complete = [e for e in json_events(r.stdout) if e.get("event") == "complete"]
        downloaded = complete[-1].get("downloaded", SIZE) if complete else SIZE
        c.check(downloaded <= SIZE // 2 + 2 * PIECE,
                "the restart downloaded only the missing half",
                "downloaded %d of %d bytes" % (downloaded, SIZE))
    finally:
        stop_process(seed)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-hostile-resume-") as work:
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, SIZE)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", "64k", "-q"],
                       check=True, timeout=60)
        hostile_test(c, starling, work, data, torrent)
        resume_test(c, starling, work, data, torrent)
    return c.summary("test_hostile_and_resume")


if __name__ == "__main__":
    sys.exit(main())
