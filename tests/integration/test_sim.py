#!/usr/bin/env python3
"""`starling sim` from the command line: small swarms only, each run bounded (a few seconds).

a. A JSON scenario with two capacity classes and free riders: every leecher completes, the JSON
   summary has the goal fields and a mean per class; a flag on the command line beats the file.
b. Bad scenarios (unknown key, wrong type, not JSON, class without rates) exit 2 naming the file
   and the key.
c. --model slides: the last completion is T * log2(n) for n a power of two.
d. --timeline and --csv files have their headers and one row per sample / leecher.
e. The time grid: the default (10 ms) says so in the summary and puts every completion on the
   grid; --grid 0 (or "grid": 0 in a scenario) is the exact model, whose summary has no grid_ms.
"""

import csv
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import Checker, starling_path, temp_dir  # noqa: E402

TIMEOUT = 60


def sim(starling, *args):
    return subprocess.run([starling, "sim", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    c = Checker()
    with temp_dir("starling-sim-") as work:
        scenario = os.path.join(work, "classes.json")
        with open(scenario, "w") as f:
            json.dump({"peers": 60, "pieces": 64, "piece_size": "64k", "seed_up": "2m",
                       "free_riders": 0.1,
                       "classes": [{"fraction": 0.5, "up": "1m", "down": "8m"},
                                   {"fraction": 0.5, "up": "4m", "down": "16m"}]}, f)
        # a. classes and free riders
        out = sim(starling, "--scenario", scenario, "--json")
        c.check(out.returncode == 0, f"scenario run exits 0 ({out.returncode}: {out.stderr})")
        summary = json.loads(out.stdout or "{}")
        for key in ("peers", "mean_s", "p50_s", "p99_s", "max_s", "t_min_s", "ratio", "wall_s"):
            c.check(key in summary, f"summary has {key}")
        c.check(summary.get("peers") == 60 and summary.get("completed") == 60,
                 "every leecher of the scenario completes")
        c.check(len(summary.get("class_mean_s", [])) == 2, "a mean per capacity class")
        c.check("free_rider_mean_s" in summary, "free riders reported")
        out = sim(starling, "--scenario", scenario, "--peers", "20", "--json")
        c.check(json.loads(out.stdout or "{}").get("peers") == 20, "--peers beats the scenario")

        # b. bad scenarios
        for text, words in (('{"peers": 10, "bogus": 1}', "unknown key 'bogus'"),
                            ('{"peers": "many"}', "key 'peers'"),
                            ('[1, 2', "not a JSON object"),
                            ('{"classes": [{"up": "1m"}]}', "key 'classes'")):
            bad = os.path.join(work, "bad.json")
            with open(bad, "w") as f:
                f.write(text)
            out = sim(starling, "--scenario", bad)
            c.check(out.returncode == 2 and bad in out.stderr and words in out.stderr,
                     f"bad scenario {text!r} exits 2 with {words!r} ({out.stderr.strip()})")

        # c. the slides model
        for n in (2, 16, 256):
            out = sim(starling, "--model", "slides", "--peers", str(n - 1), "--pieces", "4",
                      "--piece-size", "256k", "--up", "1m", "--json")
            s = json.loads(out.stdout or "{}")
            c.check(out.returncode == 0 and s.get("max_s") == math.log2(n) and
                     s.get("round_s") == 1.0, f"slides n={n}: last = T log2 n ({s})")

        # d. timeline and per-peer CSV
        timeline = os.path.join(work, "timeline.csv")
        peers = os.path.join(work, "peers.csv")
        out = sim(starling, "--peers", "30", "--pieces", "32", "--piece-size", "64k",
                  "--timeline", timeline, "--timeline-step", "0.5", "--csv", peers)
        c.check(out.returncode == 0, "timeline run exits 0")
        with open(timeline, newline="") as f:
            rows = list(csv.DictReader(f))
        c.check(len(rows) >= 3 and set(rows[0]) == {"t_s", "copies", "entropy", "utilisation",
                                                     "completed"}, "timeline columns")
        c.check(rows and float(rows[-1]["copies"]) == 31 and rows[-1]["completed"] == "30",
                 "the last sample has every copy")
        with open(peers, newline="") as f:
            rows = list(csv.DictReader(f))
        c.check(len(rows) == 30 and "from_seeds_bytes" in rows[0], "one CSV row per leecher")

        # e. the time grid, and the exact model
        small = ("--peers", "30", "--pieces", "32", "--piece-size", "64k", "--json")
        out = sim(starling, *small, "--csv", peers)
        s = json.loads(out.stdout or "{}")
        c.check(out.returncode == 0 and s.get("grid_ms") == 10, f"the default grid is 10 ms ({s})")
        with open(peers, newline="") as f:
            times = [float(r["completion_s"]) for r in csv.DictReader(f)]
        c.check(len(times) == 30 and all(abs(t * 100 - round(t * 100)) < 1e-4 for t in times),
                 "every completion on the 10 ms grid")
        out = sim(starling, *small, "--grid", "0")
        s = json.loads(out.stdout or "{}")
        c.check(out.returncode == 0 and s.get("completed") == 30 and "grid_ms" not in s,
                 f"--grid 0 runs the exact model ({s})")
        exact = os.path.join(work, "exact.json")
        with open(exact, "w") as f:
            json.dump({"peers": 30, "pieces": 32, "piece_size": "64k", "grid": 0}, f)
        out = sim(starling, "--scenario", exact, "--json")
        c.check(json.loads(out.stdout or "{}") | {"wall_s": 0, "max_rss_mib": 0} ==
                 s | {"wall_s": 0, "max_rss_mib": 0}, "\"grid\": 0 in a scenario is --grid 0")
    return c.summary("test_sim")


if __name__ == "__main__":
    sys.exit(main())
