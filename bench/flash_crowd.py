#!/usr/bin/env python3
"""Flash-crowd benchmark (issue 5, items 3 and 4): N starling leechers arrive at once.

Method, for each N in --peers (one swarm per N, all on 127.0.0.1):
  1. A random file of --size bytes (made once per invocation) and a .torrent made by
     `starling create` with one tracker URL and a piece size of about 128-256 pieces
     (power of two, 16 KiB .. 256 KiB unless --piece-size says otherwise).
  2. A fresh `starling tracker --interval 10` (its minimum: peers re-announce often and so
     learn of peers that arrived after them) and one `starling seed --max-up SEED_UP`. The seed
     counts as ready once the tracker's /stats shows it as a seed.
  3. t = 0: N `starling download --json --max-up LEECHER_UP --seed-time 3600` processes are
     started back to back (launch offsets are recorded; all within a fraction of a second),
     each into its own folder, each finding the others only through the tracker. They keep
     seeding after completing, as the fluid model assumes (with --leave-when-done they exit
     at completion instead, so free riders cannot live off finished contributors).
  4. Each leecher's stdout is read as it comes: the `complete` event gives its completion
     time on our wall clock (seconds since t = 0; the event's own "seconds" is kept too), and
     `progress` events give done/total for the aggregate progress curve. The number of
     complete copies over time is the step function of the completion times (plus the seed).
  5. When every leecher has completed, or at the run's timeout, everything is stopped
     (SIGTERM, then SIGKILL), and each leecher's file is compared with the source (SHA-1).

Fluid lower bound (Kumar & Ross 2006) for one seed of upload u_s, n peers of upload u_i and
download d_i, file size F:  T_min = max(F/u_s, F/d_min, n*F/(u_s + sum u_i)), with
d_min = the download cap if one is set (else infinite). Client-server time: n*F/u_s.
Free riders (--free-riders FRACTION) run with --upload-slots 0 (they never unchoke anyone, as
the free riders of Legout et al. never upload) and count as u_i = 0 in the bound; the script then runs each N twice, without and with them, and
reports free riders' mean completion against contributors', and contributors' against the
run without free riders.

Output: a Markdown table on stdout and in OUT.md, the raw results in OUT.json, and (with
python3-matplotlib) OUT_cdf.png (completion CDF at the largest N, T_min marked, plus the
aggregate progress) and OUT_vs_n.png (mean completion vs N beside T_min(N) and n*F/u_s).

Every process runs under `timeout`; everything started here is stopped at the end, also on
Ctrl-C or SIGTERM. Needs only the Python standard library (and matplotlib for the plots).
"""

import argparse
import hashlib
import json
import math
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

KIB = 1024
MIB = 1024 * 1024
FREE_RIDER_UP = 0  # bytes per second: what a free rider adds to the swarm's upload capacity
TRACKER_INTERVAL = 10  # seconds: the smallest `starling tracker --interval` accepts
GRACE = 30  # seconds added to a run's timeout for each process's own `timeout` bound


class BenchError(Exception):
    """A clean, one-line failure of the benchmark (bad flag, missing binary, a process died)."""


# ---------------------------------------------------------------------------------------------
# Small helpers.

def parse_size(text):
    """'64m' -> 67108864; suffixes k, m, g are powers of 1024 (as the starling CLI takes them)."""
    text = str(text).strip().lower()
    scale = {"k": KIB, "m": MIB, "g": 1024 * MIB}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "kmg" else text
    try:
        value = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError("not a size: %r (e.g. 64m, 512k)" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive: %r" % text)
    return int(value)


def size_arg(nbytes):
    """The shortest CLI spelling of a byte count: 4m, 512k, or plain bytes."""
    for suffix, unit in (("g", 1024 * MIB), ("m", MIB), ("k", KIB)):
        if nbytes % unit == 0:
            return "%d%s" % (nbytes // unit, suffix)
    return str(nbytes)


def human(nbytes):
    if nbytes >= MIB:
        return "%g MiB" % round(nbytes / MIB, 2)
    if nbytes >= KIB:
        return "%g KiB" % round(nbytes / KIB, 2)
    return "%d B" % nbytes


def parse_peers(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("--peers wants integers like 4,8,16") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("--peers wants positive integers")
    return values


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_piece_size(size):
    """A power of two giving about 128-256 pieces, between 16 KiB and 256 KiB.

    Many more pieces than peers lets a fresh leecher trade from its first pieces on; small
    pieces circulate quickly at capped rates (256 KiB at 1 MiB/s shared by 4 unchoked peers:
    about 1 s per piece).
    """
    piece = 16 * KIB
    while piece < 256 * KIB and size // (piece * 2) >= 128:
        piece *= 2
    return piece


def fluid_bound(size, seed_up, uploads, down_cap=None):
    """Kumar & Ross: T_min = max(F/u_s, F/d_min, n*F/(u_s + sum u_i)); None without caps."""
    if not seed_up:
        return None
    n = len(uploads)
    terms = [size / seed_up, n * size / (seed_up + sum(uploads))]
    if down_cap:
        terms.append(size / down_cap)
    return max(terms)


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while True:
            block = f.read(4 * MIB)
            if not block:
                return h.hexdigest()
            h.update(block)


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine_line():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d cores (nproc), %s" % (os.cpu_count(), model)


# ---------------------------------------------------------------------------------------------
# Processes.

class Processes:
    """Every process this script starts, each under `timeout`, stopped together at the end."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, bound, stdout, stderr):
        """Starts `timeout -k 5 BOUND CMD...` (timeout passes SIGTERM on to the command)."""
        full = ["timeout", "-k", "5", "%d" % math.ceil(bound)] + [str(a) for a in cmd]
        proc = subprocess.Popen(full, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop_all(self, wait=10):
        """SIGTERM to everything still running, then SIGKILL what is left after `wait` s."""
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    proc.terminate()
                except ProcessLookupError:
                    pass
        end = time.monotonic() + wait
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()  # `timeout` forwards only catchable signals; -k 5 covers the child
                proc.wait()
        for proc in self.procs:
            if proc.stdout:
                proc.stdout.close()
        self.procs = []


def tracker_stats(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port, timeout=2) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def wait_until(predicate, seconds, proc=None, what="a process"):
    """Polls `predicate` every 50 ms; BenchError if `proc` exits or time runs out."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise BenchError("%s exited early (exit %s)" % (what, proc.returncode))
        time.sleep(0.05)
    raise BenchError("%s was not ready after %d s" % (what, seconds))


def check_binary(starling, caps):
    """The binary runs, and has --max-up when caps are wanted: else a clean error."""
    if not (os.path.isfile(starling) and os.access(starling, os.X_OK)):
        raise BenchError("no starling binary at %s (build it, or pass --starling PATH)" % starling)
    helps = {}
    for command in ("download", "seed", "tracker"):
        r = subprocess.run([starling, command, "--help"], capture_output=True, text=True,
                           timeout=20)
        helps[command] = r.stdout + r.stderr
        if r.returncode != 0:
            raise BenchError("`starling %s --help` failed (exit %d)" % (command, r.returncode))
    if caps:
        for command in ("download", "seed"):
            if "--max-up" not in helps[command]:
                raise BenchError("this starling's `%s` has no --max-up flag (rate limits not in "
                                 "this build); rebuild, or run with --no-caps" % command)
    if "--upload-slots" not in helps["download"]:
        raise BenchError("this starling's `download` has no --upload-slots flag (needed for free "
                         "riders); rebuild")
    if "--interval" not in helps["tracker"]:
        raise BenchError("this starling's tracker has no --interval flag")


# ---------------------------------------------------------------------------------------------
# One swarm.

class Leecher:
    def __init__(self, index, out_dir, free_rider):
        self.index = index
        self.out_dir = out_dir
        self.free_rider = free_rider
        self.proc = None
        self.launched = None  # seconds after t = 0
        self.buffer = b""
        self.completed = None  # wall seconds after t = 0 of the `complete` event
        self.own_seconds = None  # the event's own "seconds"
        self.uploaded = None
        self.done = 0  # bytes, from the last progress event
        self.exit_code = None
        self.error = None

    def feed(self, chunk, now):
        """Takes a piece of stdout; handles each whole JSON line."""
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "progress":
                self.done = event.get("done", self.done)
            elif kind == "complete" and self.completed is None:
                self.completed = now
                self.own_seconds = event.get("seconds")
                self.uploaded = event.get("uploaded")
                self.done = event.get("bytes", self.done)
            elif kind == "error":
                self.error = event.get("message", "error")


def transport_flags(cfg):
    return {"both": [], "tcp": ["--tcp-only"], "utp": ["--utp-only"]}[cfg.transport]


def pick_free_riders(n, fraction):
    """Indices of round(fraction * n) free riders (at least one when fraction > 0), spread out."""
    count = min(n - 1, max(1, round(fraction * n))) if fraction > 0 else 0
    if count <= 0:
        return set()
    return {int(i * n / count) for i in range(count)}


def run_swarm(cfg, n, fraction, source, source_sha1, work):
    """Runs one flash crowd of n leechers; returns a result dict (see the keys below)."""
    run_dir = os.path.join(work, "n%d-fr%g" % (n, fraction))
    shutil.rmtree(run_dir, ignore_errors=True)  # a --work folder may hold an earlier run
    os.makedirs(run_dir)
    procs = Processes()
    size = cfg.size_bytes
    free_riders = pick_free_riders(n, fraction)
    uploads = [FREE_RIDER_UP if i in free_riders else cfg.leecher_up_bytes for i in range(n)]
    caps = not cfg.no_caps
    t_min = fluid_bound(size, cfg.seed_up_bytes, uploads, cfg.leecher_down_bytes) if caps else None
    run_timeout = cfg.run_timeout or (min(600.0, max(60.0, 8 * t_min)) if t_min else 120.0)
    bound = run_timeout + GRACE
    try:
        port = free_port()
        torrent = os.path.join(run_dir, "payload.torrent")
        r = subprocess.run([cfg.starling, "create", source, "-o", torrent, "-q", "--piece-size",
                            size_arg(cfg.piece_size), "-t", "http://127.0.0.1:%d/announce" % port],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise BenchError("starling create failed: %s" % r.stderr.strip())

        def log(name):
            return open(os.path.join(run_dir, name), "wb")

        tracker = procs.start([cfg.starling, "tracker", "--http", "127.0.0.1:%d" % port,
                               "--udp", "off", "--interval", TRACKER_INTERVAL],
                              bound, log("tracker.out"), log("tracker.err"))
        wait_until(lambda: tracker_stats(port) is not None, 20, tracker, "the tracker")

        seed_cmd = [cfg.starling, "seed", torrent, os.path.dirname(source), "--listen",
                    "127.0.0.1:0", "--json", *transport_flags(cfg)]
        if caps:
            seed_cmd += ["--max-up", size_arg(cfg.seed_up_bytes)]
        seed = procs.start(seed_cmd, bound, log("seed.out"), log("seed.err"))
        wait_until(lambda: (tracker_stats(port) or {}).get("seeds", 0) >= 1, 60, seed,
                   "the seed (announce to the tracker)")

        leechers = [Leecher(i, os.path.join(run_dir, "leecher%03d" % i), i in free_riders)
                    for i in range(n)]
        t0 = time.monotonic()
        for lee in leechers:
            cmd = [cfg.starling, "download", torrent, "-o", lee.out_dir, "--json",
                   *transport_flags(cfg),
                   "--listen", "127.0.0.1:0", "--timeout", run_timeout]
            if not cfg.leave_when_done:
                cmd += ["--seed-time", "3600"]  # stay and seed until the run ends
            if lee.free_rider:
                cmd += ["--upload-slots", "0"]
            elif caps:
                cmd += ["--max-up", size_arg(cfg.leecher_up_bytes)]
            if caps:
                if cfg.leecher_down_bytes:
                    cmd += ["--max-down", size_arg(cfg.leecher_down_bytes)]
            lee.proc = procs.start(cmd, bound, subprocess.PIPE,
                                   log("leecher%03d.err" % lee.index))
            lee.launched = time.monotonic() - t0
        progress = watch(leechers, n, t0, run_timeout, size, seed, tracker)
        wall = time.monotonic() - t0
    finally:
        procs.stop_all()

    identical = 0
    for lee in leechers:
        path = os.path.join(lee.out_dir, os.path.basename(source))
        lee.identical = os.path.isfile(path) and sha1_file(path) == source_sha1
        identical += lee.identical
    result = summarize(cfg, n, fraction, leechers, uploads, t_min, progress, wall, run_timeout)
    result["identical"] = identical
    if not cfg.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def watch(leechers, n, t0, run_timeout, size, seed, tracker):
    """Reads every leecher's events until all completed (or failed) or the timeout.

    Returns the aggregate progress series [(t, fraction of n*F done)], sampled every 0.5 s.
    """
    sel = selectors.DefaultSelector()
    for lee in leechers:
        os.set_blocking(lee.proc.stdout.fileno(), False)
        sel.register(lee.proc.stdout, selectors.EVENT_READ, lee)
    progress = []
    next_sample = 0.0
    next_report = 5.0
    deadline = t0 + run_timeout
    while True:
        now = time.monotonic()
        pending = [lee for lee in leechers if lee.completed is None and lee.exit_code is None]
        if not pending or now >= deadline:
            break
        for key, _ in sel.select(timeout=0.2):
            lee = key.data
            try:
                chunk = os.read(key.fileobj.fileno(), 65536)
            except BlockingIOError:
                continue
            if chunk:
                lee.feed(chunk, time.monotonic() - t0)
            else:
                sel.unregister(key.fileobj)
        for lee in pending:
            if lee.completed is None and lee.proc.poll() is not None:
                lee.exit_code = lee.proc.returncode
                print("  leecher %d exited (%d) before completing%s" % (
                    lee.index, lee.exit_code, ": " + lee.error if lee.error else ""), flush=True)
        for what, proc in (("seed", seed), ("tracker", tracker)):
            if proc.poll() is not None:
                raise BenchError("the %s exited during the run (exit %s)" % (what, proc.returncode))
        t = time.monotonic() - t0
        if t >= next_sample:
            progress.append((round(t, 2), sum(lee.done for lee in leechers) / (n * size)))
            next_sample += 0.5
        if t >= next_report:
            done = sum(1 for lee in leechers if lee.completed is not None)
            print("  N=%d t=%5.1f s: %d/%d complete, aggregate %.0f%%" % (
                n, t, done, n, 100 * progress[-1][1]), flush=True)
            next_report += 5.0
    sel.close()
    t = time.monotonic() - t0
    progress.append((round(t, 2), sum(lee.done for lee in leechers) / (n * size)))
    return progress


def mean_or_none(values):
    return statistics.mean(values) if values else None


def summarize(cfg, n, fraction, leechers, uploads, t_min, progress, wall, run_timeout):
    times = sorted(lee.completed for lee in leechers if lee.completed is not None)
    contributors = [lee.completed for lee in leechers if not lee.free_rider]
    riders = [lee.completed for lee in leechers if lee.free_rider]
    all_done = len(times) == n
    mean = statistics.mean(times) if all_done else None
    return {
        "n": n,
        "free_rider_fraction": fraction,
        "free_riders": sum(1 for lee in leechers if lee.free_rider),
        "size": cfg.size_bytes,
        "piece_size": cfg.piece_size,
        "seed_up": None if cfg.no_caps else cfg.seed_up_bytes,
        "leecher_up": None if cfg.no_caps else cfg.leecher_up_bytes,
        "leecher_down": cfg.leecher_down_bytes,
        "t_min": t_min,
        "client_server": (n * cfg.size_bytes / cfg.seed_up_bytes) if not cfg.no_caps else None,
        "completed": len(times),
        "mean": mean,
        "median": statistics.median(times) if all_done else None,
        "max": times[-1] if all_done else None,
        "mean_over_t_min": (mean / t_min) if (mean and t_min) else None,
        "max_over_t_min": (times[-1] / t_min) if (all_done and t_min) else None,
        "contributors_mean": (mean_or_none(contributors)
                              if None not in contributors else None),
        "free_riders_mean": mean_or_none(riders) if None not in riders else None,
        "completion_times": times,  # sorted: complete copies over time = 1 + index
        "leechers": [{"index": lee.index, "free_rider": lee.free_rider,
                      "launched": round(lee.launched, 3), "completed": lee.completed,
                      "own_seconds": lee.own_seconds, "uploaded": lee.uploaded,
                      "exit_code": lee.exit_code} for lee in leechers],
        "progress": progress,
        "wall": wall,
        "timeout": run_timeout,
        "last_launch": max(lee.launched for lee in leechers),
        "aggregate_upload_cap": None if cfg.no_caps else cfg.seed_up_bytes + sum(uploads),
    }


# ---------------------------------------------------------------------------------------------
# Reports.

def fmt_s(value, digits=1):
    return "—" if value is None else "%.*f" % (digits, value)


def markdown(cfg, results, meta):
    caps = not cfg.no_caps
    lines = [
        "Flash crowd: %s file, %s pieces, seed up %s, leecher up %s%s; tracker interval %d s; "
        "transports: %s" % (
            human(cfg.size_bytes), human(cfg.piece_size),
            "%s/s" % human(cfg.seed_up_bytes) if caps else "uncapped",
            "%s/s" % human(cfg.leecher_up_bytes) if caps else "uncapped",
            ", leecher down %s/s" % human(cfg.leecher_down_bytes) if cfg.leecher_down_bytes else "",
            TRACKER_INTERVAL, {"both": "uTP first, TCP fallback", "tcp": "TCP only",
                               "utp": "uTP only"}[cfg.transport]),
        "Command: %s" % meta["command"],
        "Machine: %s; load average %s at start, %s at end" % (
            meta["machine"], meta["load_start"], meta["load_end"]),
        "starling: %s" % meta["starling"],
        "Times are wall seconds from t = 0 (all leechers launched within %.2f s) to each "
        "leecher's `complete` event. T_min bounds the last completion (max), not the mean."
        % max(r["last_launch"] for r in results),
        "",
        "| N | free riders | complete | identical | T_min s | client-server s | mean s | "
        "median s | max s | mean/T_min | max/T_min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append("| %d | %d | %d/%d | %d/%d | %s | %s | %s | %s | %s | %s | %s |" % (
            r["n"], r["free_riders"], r["completed"], r["n"], r["identical"], r["n"],
            fmt_s(r["t_min"], 2), fmt_s(r["client_server"]), fmt_s(r["mean"], 2), fmt_s(r["median"], 2),
            fmt_s(r["max"], 2), fmt_s(r["mean_over_t_min"], 2), fmt_s(r["max_over_t_min"], 2)))
    riders = [r for r in results if r["free_riders"]]
    if riders:
        base = {r["n"]: r for r in results if not r["free_riders"]}
        lines += ["", "Free riders (`--upload-slots 0`: they never unchoke anyone):", "",
                  "| N | free riders | contributors' mean s | free riders' mean s | "
                  "riders/contributors | contributors' mean without free riders s | "
                  "contributors with/without |",
                  "|---|---|---|---|---|---|---|"]
        for r in riders:
            b = base.get(r["n"])
            cm, fm = r["contributors_mean"], r["free_riders_mean"]
            bm = b["mean"] if b else None
            lines.append("| %d | %d | %s | %s | %s | %s | %s |" % (
                r["n"], r["free_riders"], fmt_s(cm), fmt_s(fm),
                fmt_s(fm / cm if fm and cm else None, 2), fmt_s(bm),
                fmt_s(cm / bm if cm and bm else None, 2)))
    return "\n".join(lines) + "\n"


def plot(cfg, results, out):
    """Writes OUT_cdf.png and OUT_vs_n.png; returns the paths, or [] without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: python3-matplotlib is not installed; no plots (apt-get install "
              "python3-matplotlib, or make deps)", file=sys.stderr)
        return []
    paths = []
    base = [r for r in results if not r["free_riders"]]
    riders = [r for r in results if r["free_riders"]]
    largest = max(base or results, key=lambda r: r["n"])

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for r, style in [(largest, "-")] + [(x, "--") for x in riders if x["n"] == largest["n"]]:
        times = r["completion_times"]
        label = "N=%d" % r["n"] + (", %d free riders" % r["free_riders"] if r["free_riders"]
                                   else "")
        xs = [0.0] + [t for t in times for _ in (0, 1)]
        ys = [0.0, 0.0] + [k / r["n"] for k in range(1, len(times) + 1) for _ in (0, 1)]
        ax1.plot(xs, ys[:len(xs)], style, drawstyle="default", label=label)
        ax2.plot([p[0] for p in r["progress"]], [p[1] for p in r["progress"]], style,
                 label=label)
    if largest["aggregate_upload_cap"]:
        end = largest["n"] * largest["size"] / largest["aggregate_upload_cap"]
        ax2.plot([0, end], [0, 1], "k--", linewidth=0.8, label="every upload cap busy from t = 0")
    if largest["t_min"]:
        for ax in (ax1, ax2):
            ax.axvline(largest["t_min"], color="k", linestyle=":",
                       label="fluid bound T_min = %.1f s" % largest["t_min"])
    ax1.set_xlabel("seconds since t = 0")
    ax1.set_ylabel("fraction of leechers complete")
    ax1.set_title("Completion CDF, N = %d" % largest["n"])
    copies = ax1.secondary_yaxis("right", functions=(lambda f: 1 + f * largest["n"],
                                                     lambda c: (c - 1) / largest["n"]))
    copies.set_ylabel("complete copies (with the seed)")
    ax2.set_xlabel("seconds since t = 0")
    ax2.set_ylabel("aggregate bytes done / (N·F)")
    ax2.set_title("Aggregate progress")
    for ax in (ax1, ax2):
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    paths.append(out + "_cdf.png")
    fig.savefig(paths[-1], dpi=80)
    plt.close(fig)

    if len(base) > 1:  # one N makes no curve
        fig, ax = plt.subplots(figsize=(6, 4))
        ns = [r["n"] for r in base]
        ax.plot(ns, [r["mean"] for r in base], "o-", label="starling mean completion")
        ax.plot(ns, [r["max"] for r in base], "x:", label="starling max completion")
        if not cfg.no_caps:
            ax.plot(ns, [r["t_min"] for r in base], "k--", label="fluid bound T_min(N)")
            ax.plot(ns, [r["client_server"] for r in base], "r-.", label="client-server N·F/u_s")
            ax.set_yscale("log")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns)
        ax.set_xticklabels([str(v) for v in ns])
        ax.set_xlabel("leechers N (log scale)")
        ax.set_ylabel("seconds")
        ax.set_title("Flash crowd: completion time vs N")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        paths.append(out + "_vs_n.png")
        fig.savefig(paths[-1], dpi=80)
        plt.close(fig)
    return paths


# ---------------------------------------------------------------------------------------------
# Main.

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See the top of this file for the method.")
    p.add_argument("--starling", default="build/bin/starling", help="the starling binary")
    p.add_argument("--peers", type=parse_peers, default=parse_peers("4,8,16,32,64"),
                   help="comma-separated leecher counts N (default 4,8,16,32,64)")
    p.add_argument("--size", type=parse_size, default=parse_size("32m"),
                   help="file size (default 32m)")
    p.add_argument("--piece-size", type=parse_size, default=None,
                   help="piece size (default: 128-256 pieces, 16k..256k)")
    p.add_argument("--seed-up", type=parse_size, default=parse_size("4m"),
                   help="seed upload cap, bytes/s (default 4m)")
    p.add_argument("--leecher-up", type=parse_size, default=parse_size("1m"),
                   help="each leecher's upload cap, bytes/s (default 1m)")
    p.add_argument("--leecher-down", type=parse_size, default=None,
                   help="each leecher's download cap, bytes/s (default: none)")
    p.add_argument("--free-riders", type=float, default=0.0, metavar="FRACTION",
                   help="also run each N with this fraction of leechers at --max-up 1")
    p.add_argument("--leave-when-done", action="store_true",
                   help="leechers exit as soon as they complete instead of staying to seed "
                        "(then only the seed and unfinished leechers serve the rest)")
    p.add_argument("--no-caps", action="store_true",
                   help="no rate limits at all (no fluid bound; for builds without --max-up)")
    p.add_argument("--run-timeout", type=float, default=None,
                   help="seconds per swarm (default: 8 x T_min, 60..600; 120 with --no-caps)")
    p.add_argument("--out", default="docs/flash_crowd",
                   help="output prefix: OUT.md, OUT.json, OUT_cdf.png, OUT_vs_n.png")
    p.add_argument("--transport", choices=("both", "tcp", "utp"), default="both",
                   help="peer transports of every starling process (default both: uTP first)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, data)")
    p.add_argument("--work", default=None,
                   help="work folder (made if missing, kept afterwards; default: a temp folder)")
    args = p.parse_args(argv)
    if not 0 <= args.free_riders < 1:
        p.error("--free-riders must be in [0, 1)")
    if args.free_riders and args.no_caps:
        p.error("--free-riders needs upload caps (free riders are leechers at --max-up 1)")
    args.starling = os.path.abspath(args.starling)
    args.size_bytes = args.size
    args.piece_size = args.piece_size or default_piece_size(args.size)
    args.seed_up_bytes = args.seed_up
    args.leecher_up_bytes = args.leecher_up
    args.leecher_down_bytes = args.leecher_down
    return args


def install_signal_handlers():
    """SIGTERM behaves like Ctrl-C: unwinds through the `finally` that stops every process."""
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    install_signal_handlers()
    try:
        check_binary(args.starling, not args.no_caps)
    except BenchError as e:
        print("flash_crowd: %s" % e, file=sys.stderr)
        return 2
    meta = {"command": " ".join([os.path.basename(sys.executable)] + sys.argv)
            if argv is None else "flash_crowd.main(%r)" % (argv,),
            "machine": machine_line(), "load_start": load_average(),
            "starling": "%s (%s)" % (args.starling, time.strftime(
                "%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(args.starling))))}
    if args.work:
        args.keep = True
        work = os.path.abspath(args.work)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="starling-flash-crowd-")
    results = []
    try:
        source = os.path.join(work, "seed", "payload.bin")
        os.makedirs(os.path.dirname(source), exist_ok=True)
        with open(source, "wb") as f:
            left = args.size_bytes
            while left:
                chunk = os.urandom(min(left, 4 * MIB))
                f.write(chunk)
                left -= len(chunk)
        source_sha1 = sha1_file(source)
        fractions = [0.0] + ([args.free_riders] if args.free_riders else [])
        for n in args.peers:
            for fraction in fractions:
                print("flash crowd: N=%d%s, %s, %s..." % (
                    n, " with %g free riders" % fraction if fraction else "",
                    human(args.size_bytes),
                    "uncapped" if args.no_caps else "seed %s/s, leechers %s/s" % (
                        human(args.seed_up_bytes), human(args.leecher_up_bytes))), flush=True)
                r = run_swarm(args, n, fraction, source, source_sha1, work)
                results.append(r)
                print("  done: %d/%d complete, %d identical, mean %s s, T_min %s s, "
                      "mean/T_min %s, load %s" % (
                          r["completed"], n, r["identical"], fmt_s(r["mean"], 2),
                          fmt_s(r["t_min"], 2), fmt_s(r["mean_over_t_min"], 2),
                          load_average()), flush=True)
    except BenchError as e:
        print("flash_crowd: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flash_crowd: interrupted; every process stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print("work folder kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    meta["load_end"] = load_average()
    table = markdown(args, results, meta)
    print()
    print(table, end="", flush=True)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out + ".md", "w") as f:
        f.write(table)
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
        f.write("\n")
    written = [args.out + ".md", args.out + ".json"]
    if not args.no_plots:
        written += plot(args, results, args.out)
    print("wrote %s" % ", ".join(written), flush=True)
    failed = [r for r in results if r["completed"] != r["n"] or r["identical"] != r["n"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
