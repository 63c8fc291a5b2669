#!/usr/bin/env python3
"""Runs `starling sim` for the experiments of docs/simulation.md and draws their plots.

    python3 bench/sim_plots.py [--starling build/bin/starling] [--out docs] [--peers 1000]
                               [--sizes 10,30,100,300,1000,3000,10000]

Writes docs/sim_*.png (PNG, small) and prints a Markdown summary of every run. The runs' raw
outputs (JSON summaries, per-peer CSV, timelines) stay in --work. Needs python3-matplotlib.
Every run is bounded: the simulator stops at its time limit, and each run here at --timeout.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIB = 1024 * 1024


def run(args, name, extra, timeline=True):
    """One `starling sim --json` run; returns its summary with the per-peer rows and timeline."""
    csv_path = os.path.join(args.work, name + ".csv")
    tl_path = os.path.join(args.work, name + "_timeline.csv")
    cmd = [args.starling, "sim", "--json", "--seed", str(args.seed), "--csv", csv_path] + extra
    if "slides" not in extra:
        cmd += ["--have-batch", args.have_batch, "--grid", str(args.grid)]
    if timeline:
        cmd += ["--timeline", tl_path, "--timeline-step", "2"]
    print("$ " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=args.timeout)
    if out.returncode not in (0, 1):
        sys.exit(f"sim failed ({out.returncode}): {out.stderr}")
    summary = json.loads(out.stdout)
    summary["command"] = "starling " + " ".join(cmd[1:])
    with open(csv_path, newline="") as f:
        summary["rows"] = list(csv.DictReader(f))
    summary["timeline"] = []
    if timeline:
        with open(tl_path, newline="") as f:
            summary["timeline"] = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    return summary


def completions(summary):
    return sorted(float(r["completion_s"]) for r in summary["rows"] if float(r["completion_s"]) >= 0)


def cdf(ax, summary, label, **style):
    times = completions(summary)
    ys = [(i + 1) / len(times) for i in range(len(times))]
    ax.step(times, ys, where="post", label=label, **style)


def save(fig, args, name):
    path = os.path.join(args.out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=args.dpi)
    plt.close(fig)
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)", file=sys.stderr)


def column(summary, key):
    return [r["t_s"] for r in summary["timeline"]], [r[key] for r in summary["timeline"]]


def plot_cdf(args, base):
    fig, ax = plt.subplots(figsize=(7, 4))
    cdf(ax, base, f"{base['peers']} leechers, rarest first")
    ax.axvline(base["t_min_s"], color="k", ls="--", label=f"T_min = {base['t_min_s']:.1f} s")
    ax.axvline(base["mean_s"], color="tab:red", ls=":", label=f"mean = {base['mean_s']:.1f} s")
    ax.set_xlabel("completion time (s)")
    ax.set_ylabel("fraction of leechers done")
    ax.set_title(f"Completion CDF (mean / T_min = {base['ratio']:.3f})")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    save(fig, args, "sim_cdf.png")


def plot_timeline(args, base):
    fig, axes = plt.subplots(3, 1, figsize=(7, 6.5), sharex=True)
    t, c = column(base, "copies")
    axes[0].plot(t, c)
    axes[0].set_ylabel("copies C(t)")
    t, e = column(base, "entropy")
    axes[1].plot(t, e)
    axes[1].set_ylabel("piece entropy")
    axes[1].set_ylim(0, 1.02)
    t, u = column(base, "utilisation")
    axes[2].plot(t, u)
    axes[2].set_ylabel("upload utilisation")
    axes[2].set_ylim(0, 1.02)
    axes[2].set_xlabel("time (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].set_title(f"{base['peers']} leechers, flash crowd: service capacity, diversity, use")
    save(fig, args, "sim_timeline.png")


def plot_picker(args, rarest, random):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for s, label in ((rarest, "rarest first"), (random, "random")):
        t, e = column(s, "entropy")
        axes[0].plot(t, e, label=label)
        cdf(axes[1], s, f"{label} (mean {s['mean_s']:.0f} s)")
    axes[0].set_xlabel("time (s)")
    axes[0].set_ylabel("piece-availability entropy")
    axes[0].set_ylim(0, 1.02)
    axes[0].legend()
    axes[1].axvline(rarest["t_min_s"], color="k", ls="--", label="T_min")
    axes[1].set_xlabel("completion time (s)")
    axes[1].set_ylabel("fraction of leechers done")
    axes[1].legend(loc="upper left")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Rarest first vs random piece selection (same PiecePicker)")
    save(fig, args, "sim_picker.png")


def plot_seed_uniformity(args, base):
    """Bytes each leecher got from the seed: how many it reached, and how evenly among those."""
    file_bytes = args.pieces * args.piece_kib * 1024
    shares = sorted((float(r["from_seeds_bytes"]) / file_bytes for r in base["rows"]), reverse=True)
    served = [x for x in shares if x > 0]
    mean = sum(served) / len(served)
    cv = math.sqrt(sum((x - mean) ** 2 for x in served) / len(served)) / mean
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(range(1, len(shares) + 1), shares)
    axes[0].set_xlabel("leechers, by bytes from the seed")
    axes[0].set_ylabel("bytes from the seed / file size")
    axes[0].set_title(f"{len(served)} of {len(shares)} leechers got data from the seed")
    axes[1].hist(served, bins=20)
    axes[1].axvline(mean, color="k", ls="--", label=f"mean {mean:.3f} of the file")
    axes[1].set_xlabel("bytes from the seed / file size (leechers served)")
    axes[1].set_ylabel("leechers")
    axes[1].set_title(f"Among those served: CV = {cv:.2f}")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    save(fig, args, "sim_seed_uniformity.png")
    return len(served), mean, cv


def plot_seed_capacity(args, runs):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for label, s in runs:
        cdf(axes[0], s, f"seed {label}/s: mean {s['mean_s']:.0f} s, T_min {s['t_min_s']:.0f} s")
        t, c = column(s, "copies")
        axes[1].plot(t, c, label=f"seed {label}/s")
    axes[0].set_xlabel("completion time (s)")
    axes[0].set_ylabel("fraction of leechers done")
    axes[0].legend(loc="lower right", fontsize=8)
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("copies C(t)")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("An under-provisioned initial seed (leechers up 1 MiB/s)")
    save(fig, args, "sim_seed_capacity.png")


def plot_vs_n(args, sizes, slides):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ns = [s["peers"] for s in sizes]
    axes[0].plot(ns, [s["mean_s"] for s in sizes], "o-", label="swarm: mean")
    axes[0].plot(ns, [s["max_s"] for s in sizes], "s-", label="swarm: last")
    axes[0].plot(ns, [s["t_min_s"] for s in sizes], "k--", label="T_min (Kumar & Ross)")
    axes[0].plot(ns, [s["client_server_s"] for s in sizes], "r:", label="client-server n F / u_s")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("leechers n")
    axes[0].set_ylabel("time (s)")
    mib = args.pieces * args.piece_kib / 1024
    axes[0].set_title(f"Completion vs n ({mib:g} MiB, up 1 MiB/s, seed 4 MiB/s)")
    axes[0].legend(fontsize=8)
    total = [s["peers"] + 1 for s in slides]
    axes[1].plot(total, [s["max_s"] / s["round_s"] for s in slides], "o", label="slides model: last / T")
    axes[1].plot(total, [math.log2(n) for n in total], "k--", label="log2 n")
    axes[1].plot(total, [n - 1 for n in total], "r:", label="client-server (n - 1)")
    axes[1].set_xscale("log", base=2)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("peers n (seed included)")
    axes[1].set_ylabel("rounds of T = F / u")
    axes[1].set_title("One piece, one upload at a time: T log2 n")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    save(fig, args, "sim_vs_n.png")


def row(name, s):
    return (f"| {name} | {s['peers']} | {s['t_min_s']:.1f} | {s['mean_s']:.1f} | {s['p99_s']:.1f} | "
            f"{s['max_s']:.1f} | {s['ratio']:.3f} | {s['wall_s']:.1f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--starling", default="build/bin/starling")
    p.add_argument("--out", default="docs")
    p.add_argument("--work", default=None, help="where the raw outputs go (default: a temp dir)")
    p.add_argument("--peers", type=int, default=1000)
    p.add_argument("--pieces", type=int, default=1000)
    p.add_argument("--piece-kib", type=int, default=256)
    p.add_argument("--sizes", default="10,30,100,300,1000,3000")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=int, default=1800, help="seconds per run")
    p.add_argument("--dpi", type=int, default=90)
    p.add_argument("--have-batch", default="receiver",
                   help="tick or receiver (the model of the plots in docs/simulation.md)")
    p.add_argument("--grid", type=int, default=0,
                   help="time grid, ms (0: the exact model of the plots in docs/simulation.md)")
    args = p.parse_args()
    args.work = args.work or tempfile.mkdtemp(prefix="sim_plots_")
    common = ["--pieces", str(args.pieces), "--piece-size", f"{args.piece_kib}k"]
    n = ["--peers", str(args.peers)]

    base = run(args, "base", common + n)
    random = run(args, "random", common + n + ["--picker", "random"])
    seed_runs = [("4 MiB", base)]
    for rate, label in (("1m", "1 MiB"), ("256k", "256 KiB")):
        seed_runs.append((label, run(args, "seed_" + rate, common + n + ["--seed-up", rate])))
    sizes = [run(args, f"n{k}", common + ["--peers", k], timeline=False)
             for k in args.sizes.split(",")]
    slides = [run(args, f"slides{k}", ["--model", "slides", "--peers", str(k)] + common,
                  timeline=False) for k in (1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 4095, 9999)]

    plot_cdf(args, base)
    plot_timeline(args, base)
    plot_picker(args, base, random)
    served, mean_share, cv = plot_seed_uniformity(args, base)
    plot_seed_capacity(args, seed_runs)
    plot_vs_n(args, sizes, slides)

    print("| run | n | T_min (s) | mean (s) | p99 | max | mean / T_min | wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in [("rarest first", base), ("random", random)] + \
                   [(f"seed {label}/s", s) for label, s in seed_runs[1:]] + \
                   [(f"n = {s['peers']}", s) for s in sizes]:
        print(row(name, s))
    for name, s in (("rarest first", base), ("random", random)):
        ent = [r["entropy"] for r in s["timeline"] if not math.isnan(r["entropy"])]
        print(f"{name}: min entropy {min(ent):.3f}, mean {sum(ent) / len(ent):.3f}")
    print(f"seed: served {served} of {base['peers']} leechers, mean {mean_share:.4f} of the file "
          f"each, CV {cv:.2f}")
    for s in slides:
        print(f"slides n={s['peers'] + 1}: last {s['max_s']:.1f} s = {s['max_s'] / s['round_s']:.3f} T")
    print(f"raw outputs: {args.work}", file=sys.stderr)


if __name__ == "__main__":
    main()
