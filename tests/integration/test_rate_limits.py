#!/usr/bin/env python3
"""Rate limits hold on real transfers over loopback.

  * `starling seed --max-up 2m` -> `starling download`: 20 MiB take 10 s +- 5 %;
  * `starling seed` -> `starling download --max-down 2m`: the same from the other side;
  * malformed rates are refused with exit 2.
The timing here is the limiter's own accuracy at a rate far below what the machine can do (the
uncapped transfer of 20 MiB takes well under a second), not a speed measurement.
Every process is bounded by a timeout and killed at the end.
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, starling_path,  # noqa: E402
                            stop_process, temp_dir, wait_for, write_random)

SIZE = 20 * 1024 * 1024
RATE = 2 * 1024 * 1024
DEADLINE = 60


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def timed_transfer(starling, work, name, seed_flags, download_flags):
    """Seeds with `seed_flags`, downloads with `download_flags`; returns (exit, seconds, same)."""
    data = os.path.join(work, "seed", "payload.bin")
    torrent = os.path.join(work, "payload.torrent")
    port = free_port()
    seed = subprocess.Popen(["timeout", str(DEADLINE), starling, "seed", torrent,
                             os.path.dirname(data), "--listen", "127.0.0.1:%d" % port,
                             "--skip-check", "-q", *seed_flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Start the clock only once the seed accepts: a refused first connection is retried
        # after 5 s, which would be measured as slowness of the limiter.
        wait_for(lambda: port_open(port), 20)
        out = os.path.join(work, name)
        r = subprocess.run([starling, "download", torrent, "-o", out, "--peer",
                            "127.0.0.1:%d" % port, "--listen", "127.0.0.1:0", "--json",
                            "--timeout", str(DEADLINE - 10), *download_flags],
                           capture_output=True, text=True, timeout=DEADLINE)
        complete = [e for e in json_events(r.stdout) if e.get("event") == "complete"]
        seconds = complete[-1]["seconds"] if complete else None
        with open(data, "rb") as a, open(os.path.join(out, "payload.bin"), "rb") as b:
            same = a.read() == b.read()
        return r.returncode, seconds, same
    except FileNotFoundError:
        return -1, None, False
    finally:
        stop_process(seed)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    want = SIZE / RATE
    with temp_dir("starling-rate-limits-") as work:
        data = os.path.join(work, "seed", "payload.bin")
        write_random(data, SIZE)
        subprocess.run([starling, "create", data, "-o", os.path.join(work, "payload.torrent"),
                        "--piece-size", "256k", "-q"], check=True, timeout=DEADLINE)
        for name, seed_flags, download_flags in [("up", ["--max-up", "2m"], []),
                                                 ("down", [], ["--max-down", "2m"])]:
            code, seconds, same = timed_transfer(starling, work, name, seed_flags, download_flags)
            c.equal(code, 0, "capped transfer (%s) exits 0" % name)
            c.check(same, "capped transfer (%s) is byte-identical" % name)
            c.check(seconds is not None and abs(seconds - want) <= 0.05 * want,
                    "20 MiB at 2 MiB/s (%s) take 10 s +- 5%%" % name, "took %r s" % seconds)
        for bad in ["fast", "-1m", "2q", ""]:
            r = subprocess.run([starling, "download", os.path.join(work, "payload.torrent"),
                                "-o", os.path.join(work, "bad"), "--max-up", bad],
                               capture_output=True, text=True, timeout=DEADLINE)
            c.equal(r.returncode, 2, "--max-up %r is refused" % bad)
            c.check("max-up" in r.stderr, "the error names --max-up (%r)" % bad, r.stderr)
    return c.summary("test_rate_limits")


if __name__ == "__main__":
    sys.exit(main())
