#!/usr/bin/env python3
"""`--upload-slots` bounds how many peers we upload to; 0 means we never upload (a free rider).

A seed serves a middle leecher M, which keeps seeding for a while; then a last leecher E can
reach only M. With M at the default slots, E completes from M (byte-identical); with M at
`--upload-slots 0`, M never unchokes E, so E gets no payload and gives up at its --timeout.
Bad values are refused with exit 2. Every process is bounded by a timeout.
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, starling_path,  # noqa: E402
                            stop_process, temp_dir, wait_for, write_random)

SIZE = 4 * 1024 * 1024
DEADLINE = 60


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def relay(starling, work, name, middle_flags):
    """Seed -> M (with middle_flags) -> E; returns E's (exit code, events, identical)."""
    torrent = os.path.join(work, "payload.torrent")
    data = os.path.join(work, "seed", "payload.bin")
    seed_port, middle_port = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["timeout", str(DEADLINE), starling, "seed", torrent, os.path.dirname(data),
             "--listen", "127.0.0.1:%d" % seed_port, "--skip-check", "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: port_open(seed_port), 20)
        middle = subprocess.Popen(
            ["timeout", str(DEADLINE), starling, "download", torrent,
             "-o", os.path.join(work, name, "middle"), "--peer", "127.0.0.1:%d" % seed_port,
             "--listen", "127.0.0.1:%d" % middle_port, "--seed-time", "20", "--json",
             *middle_flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(middle)
        # M has everything once it prints its first line after completing; wait for the event.
        completed = False
        for line in middle.stdout:
            if '"complete"' in line:
                completed = True
                break
        if not completed:
            return None, [], False
        stop_process(procs[0])  # from now on E can only get data from M
        out = os.path.join(work, name, "end")
        r = subprocess.run([starling, "download", torrent, "-o", out,
                            "--peer", "127.0.0.1:%d" % middle_port, "--listen", "127.0.0.1:0",
                            "--json", "--timeout", "8"],
                           capture_output=True, text=True, timeout=DEADLINE)
        got = os.path.join(out, "payload.bin")
        same = False
        if os.path.exists(got):
            with open(data, "rb") as a, open(got, "rb") as b:
                same = a.read() == b.read()
        return r.returncode, json_events(r.stdout), same
    finally:
        for p in procs:
            stop_process(p)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-upload-slots-") as work:
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, SIZE)
        subprocess.run([starling, "create", data, "-o", os.path.join(work, "payload.torrent"),
                        "--piece-size", "256k", "-q"], check=True, timeout=DEADLINE)

        code, events, same = relay(starling, work, "default", [])
        c.equal(code, 0, "E completes from a middle leecher with the default slots")
        c.check(same, "E's copy from the default middle leecher is byte-identical")

        code, events, same = relay(starling, work, "free-rider", ["--upload-slots", "0"])
        c.equal(code, 1, "E gives up when the middle leecher has --upload-slots 0")
        done = [e["done"] for e in events if e.get("event") == "progress"]
        c.check(done and max(done) == 0,
                "E got no payload from a peer with --upload-slots 0", repr(done[-3:]))

        for bad in ["-1", "many", "1001"]:
            r = subprocess.run([starling, "download", os.path.join(work, "payload.torrent"),
                                "-o", os.path.join(work, "bad"), "--upload-slots", bad],
                               capture_output=True, text=True, timeout=DEADLINE)
            c.equal(r.returncode, 2, "--upload-slots %r is refused" % bad)
            c.check("upload-slots" in r.stderr, "the error names --upload-slots", r.stderr)
    return c.summary("test_upload_slots")


if __name__ == "__main__":
    sys.exit(main())
