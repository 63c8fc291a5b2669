#!/usr/bin/env python3
"""A small flash crowd (bench/flash_crowd.py) as a correctness test: no timing asserts.

One `starling tracker`, one `starling seed` and 8 `starling download` leechers on loopback, a
3 MiB file, modest upload caps when this build has --max-up (else none). Checks that the
benchmark exits 0, that every leecher completed with a file byte-identical to the source
(compared here, from the kept work folder), and that its outputs parse: OUT.json's results
and OUT.md's table row. Every process is bounded (the script's own `timeout`s, and ours).
"""

import filecmp
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop_common import Checker, starling_path, temp_dir  # noqa: E402

SCRIPT = os.path.join(HERE, "..", "..", "bench", "flash_crowd.py")
N = 8
DEADLINE = 55  # seconds for the whole benchmark run


def has_caps(starling):
    r = subprocess.run([starling, "download", "--help"], capture_output=True, text=True,
                       timeout=20)
    return "--max-up" in r.stdout


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-flash-crowd-test-") as tmp:
        work = os.path.join(tmp, "work")
        out = os.path.join(tmp, "out", "fc")
        cmd = [sys.executable, SCRIPT, "--starling", starling, "--peers", str(N),
               "--size", "3m", "--work", work, "--out", out, "--no-plots", "--run-timeout", "40"]
        caps = has_caps(starling)
        cmd += ["--seed-up", "2m", "--leecher-up", "1m"] if caps else ["--no-caps"]
        print("running: %s" % " ".join(cmd), flush=True)
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=DEADLINE)
        except subprocess.TimeoutExpired as e:
            c.check(False, "flash_crowd.py finished within %d s" % DEADLINE,
                    (e.stdout or b"")[-2000:])
            return c.summary("test_flash_crowd")
        ok = c.equal(r.returncode, 0, "flash_crowd.py exit code")
        if not ok:
            print(r.stdout[-3000:], r.stderr[-3000:])

        try:
            with open(out + ".json") as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            report = None
            c.check(False, "OUT.json parses", repr(e))
        if report:
            results = report.get("results", [])
            c.equal(len(results), 1, "one swarm in the results")
            for res in results:
                c.equal((res["n"], res["completed"], res["identical"]), (N, N, N),
                        "(N, completed, identical)")
                times = res["completion_times"]
                c.check(len(times) == N and all(t > 0 for t in times),
                        "a positive completion time for every leecher", repr(times))
                c.check(res["mean"] is not None and res["max"] >= res["median"] >= min(times),
                        "mean/median/max are consistent", repr(res))
                if caps:
                    c.check(res["t_min"] and res["t_min"] > 0, "a fluid bound with caps")
                    c.check(res["mean_over_t_min"] is not None, "mean/T_min reported")

        try:
            with open(out + ".md") as f:
                rows = [line for line in f if line.startswith("| %d |" % N)]
        except OSError:
            rows = []
        c.equal(len(rows), 1, "OUT.md has the table row for N=%d" % N)
        if rows:
            cells = [cell.strip() for cell in rows[0].strip().strip("|").split("|")]
            c.equal(cells[2:4], ["%d/%d" % (N, N)] * 2, "table: complete and identical")
            c.check(float(cells[6]) > 0, "table: mean is a number", rows[0])

        # Byte-identical, checked here too, from the kept work folder.
        source = os.path.join(work, "seed", "payload.bin")
        runs = [d for d in os.listdir(work) if d.startswith("n")] if os.path.isdir(work) else []
        c.equal(len(runs), 1, "one run folder kept")
        for run in runs:
            for i in range(N):
                got = os.path.join(work, run, "leecher%03d" % i, "payload.bin")
                c.check(os.path.isfile(got) and filecmp.cmp(source, got, shallow=False),
                        "leecher %d's file is byte-identical" % i)
    return c.summary("test_flash_crowd")


if __name__ == "__main__":
    sys.exit(main())
