#!/usr/bin/env python3
"""Deploy benchmark (issue 9): `starling deploy` against a client-server baseline, same fleet.

Thirteen network namespaces on one bridge, every link held to RATE both ways by tbf (see
tests/integration/deploy_common.py): an origin and N hosts. Per run:
  * BitTorrent: `starling agent` on every host, `starling deploy` of a SIZE artifact from the
    origin; the time is the deploy's `max` (last host verified, from the deploy's start);
  * client-server: nginx (Debian's) on the origin serving the same file, every host fetching it
    at once with curl; the time is the last curl's end;
  * the emulation's own floor: every host sends SIZE over one plain TCP connection to the next
    host at once (a ring, no BitTorrent). On a small shared VM the veth/bridge/tbf path cannot
    carry 13 links at full rate at once; this shows what the fleet can move at best.
T_min = max(F/u_origin, F/d_host, N·F/(u_origin + N·u_host)) for the declared links. Prints each
run and the medians, writes JSON (--out) and a bar plot (--plot, matplotlib).

Needs root, `ip netns`, tbf, nginx, curl. Run with /usr/bin/python3 (matplotlib):
  sudo /usr/bin/python3 bench/deploy_bench.py --starling build/bin/starling --runs 3 \
      --out docs/deploy_bench.json --plot docs/deploy_bench.png
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from deploy_common import (SECRET, NetnsFleet, netns_available, same_file,  # noqa: E402
                           start_agent)

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
user root;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen {address}:8080;
        root {root};
    }}
}}
"""


def rate_bytes(rate):
    units = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
    for suffix, scale in units.items():
        if rate.endswith(suffix):
            return float(rate[:-len(suffix)]) * scale / 8
    raise ValueError(rate)


def t_min(size, hosts, rate):
    r = rate_bytes(rate)
    return max(size / r, size / r, hosts * size / (r + hosts * r))


def run_deploy(starling, fleet, work, artifact, hosts, piece, extra, agent_extra):
    agents = []
    roots = []
    try:
        with open(os.path.join(work, "hosts"), "w") as f:
            for i in range(1, hosts + 1):
                root = os.path.join(work, "agent%d" % i)
                shutil.rmtree(root, ignore_errors=True)
                os.makedirs(root)
                roots.append(root)
                a = fleet.address(i)
                proc, _ = start_agent(fleet.exec(i) + [
                    starling, "agent", "--listen", a + ":7070", "--peer-listen", a + ":6881",
                    "--root", root, "--secret-file", os.path.join(work, "secret")] + agent_extra)
                agents.append(proc)
                f.write("%s:7070 rack%d\n" % (a, (i - 1) // 4))
        origin = fleet.address(0)
        cmd = fleet.exec(0) + [starling, "deploy", artifact, "--hosts", os.path.join(work, "hosts"),
                               "--secret-file", os.path.join(work, "secret"), "--dest", "rel",
                               "--json", "--seed-after", "5", "--timeout", "300",
                               "--origin-address", origin, "--tracker-listen", origin + ":6969",
                               "--peer-listen", origin + ":6881", "--origin-up", fleet.rate,
                               "--host-down", fleet.rate]
        if piece:
            cmd += ["--piece-length", piece]
        cmd += extra
        started = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
        wall = time.monotonic() - started
    finally:
        for p in agents:
            p.terminate()
        for p in agents:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    summary = None
    for line in r.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") == "summary":
            summary = e
    if r.returncode != 0 or not summary:
        raise RuntimeError("deploy failed (%d): %s %s" % (r.returncode, r.stdout[-2000:],
                                                          r.stderr[-2000:]))
    for root in roots:
        if not same_file(os.path.join(root, "rel", os.path.basename(artifact)), artifact):
            raise RuntimeError("a copy differs in " + root)
    return {"max": summary["max"], "p50": summary["p50"], "p99": summary["p99"], "wall": wall,
            "origin_copies": summary["origin_copies"], "t_min": summary["t_min"],
            "summary": summary}


def run_client_server(fleet, work, artifact, hosts):
    serve = os.path.dirname(artifact)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=work, root=serve, address=fleet.address(0)))
    nginx = subprocess.Popen(fleet.exec(0) + ["nginx", "-c", conf, "-p", work],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        url = "http://%s:8080/%s" % (fleet.address(0), os.path.basename(artifact))
        outs = [os.path.join(work, "cs%d.bin" % i) for i in range(1, hosts + 1)]
        started = time.monotonic()
        procs = [subprocess.Popen(fleet.exec(i) + ["curl", "-sS", "-o", outs[i - 1], "-w",
                                                   "%{time_total}", url],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(1, hosts + 1)]
        times = []
        for p in procs:
            out, err = p.communicate(timeout=900)
            if p.returncode != 0:
                raise RuntimeError("curl failed: " + err)
            times.append(float(out))
        wall = time.monotonic() - started
        for o in outs:
            if not same_file(o, artifact):
                raise RuntimeError("client-server copy differs")
            os.remove(o)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    return {"max": max(times), "p50": statistics.median(times), "wall": wall}


RING_SINK = """
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 9000))
l.listen(1)
c, _ = l.accept()
while c.recv(1 << 20):
    pass
"""
RING_SOURCE = """
import socket, sys
s = socket.create_connection((sys.argv[1], 9000))
block = bytes(1 << 20)
for _ in range(int(sys.argv[2])):
    s.sendall(block)
s.close()
"""


def run_ring(fleet, hosts, size):
    """Seconds for every host to push `size` bytes to the next one at once over plain TCP."""
    sinks = [subprocess.Popen(fleet.exec(i) + [sys.executable, "-c", RING_SINK, fleet.address(i)])
             for i in range(1, hosts + 1)]
    time.sleep(1.0)
    started = time.monotonic()
    sources = [subprocess.Popen(fleet.exec(i) + [sys.executable, "-c", RING_SOURCE,
                                                 fleet.address(i % hosts + 1), str(size >> 20)])
               for i in range(1, hosts + 1)]
    for p in sources + sinks:
        p.wait(timeout=600)
    return time.monotonic() - started


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = ["T_min (links)", "TCP ring floor\n(this machine)", "starling deploy",
              "client-server\n(nginx)"]
    values = [result["t_min"], result["ring_median"], result["deploy_median_max"],
              result["cs_median_max"]]
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    bars = ax.bar(labels, values, color=["#999999", "#bbbbbb", "#2a7ab0", "#c8553d"])
    for b, v in zip(bars, values):
        ax.text(b.get_x() + b.get_width() / 2, v, "%.1f s" % v, ha="center", va="bottom")
    ax.set_ylabel("last host complete (s)")
    ax.set_title("%d hosts, %d MiB, %s links (median of %d runs)" %
                 (result["hosts"], result["size"] >> 20, result["rate"], result["runs"]))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starling", required=True)
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--rate", default="100mbit")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--piece", default="", help="deploy --piece-length (default: automatic)")
    parser.add_argument("--deploy-args", default="",
                        help="more `starling deploy` flags, e.g. \"--no-super-seed\"")
    parser.add_argument("--agent-args", default="", help="more `starling agent` flags")
    parser.add_argument("--skip-client-server", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--plot")
    args = parser.parse_args()
    why = netns_available()
    if why:
        print("SKIP: " + why)
        return 0
    starling = os.path.abspath(args.starling)
    size = args.size_mib << 20
    work = tempfile.mkdtemp(prefix="starling-deploy-bench-")
    os.chmod(work, 0o755)
    result = {"hosts": args.hosts, "size": size, "rate": args.rate, "runs": args.runs,
              "t_min": t_min(size, args.hosts, args.rate), "deploy": [], "client_server": [],
              "load_before": os.getloadavg()[0]}
    try:
        with NetnsFleet(args.hosts, args.rate) as fleet:
            artifact = os.path.join(work, "origin", "app.bin")
            os.makedirs(os.path.dirname(artifact))
            with open(artifact, "wb") as f:
                f.write(os.urandom(size))
            os.chmod(artifact, 0o644)
            with open(os.path.join(work, "secret"), "wb") as f:
                f.write(SECRET)
            for run in range(args.runs):
                ring = run_ring(fleet, args.hosts, size)
                result.setdefault("ring", []).append(ring)
                print("run %d: TCP ring floor %.2f s" % (run + 1, ring), flush=True)
                d = run_deploy(starling, fleet, work, artifact, args.hosts, args.piece,
                               shlex.split(args.deploy_args), shlex.split(args.agent_args))
                result["deploy"].append(d)
                print("run %d: deploy max %.2f s (p50 %.2f, origin copies %.2f)" %
                      (run + 1, d["max"], d["p50"], d["origin_copies"]), flush=True)
                if not args.skip_client_server:
                    cs = run_client_server(fleet, work, artifact, args.hosts)
                    result["client_server"].append(cs)
                    print("run %d: client-server max %.2f s" % (run + 1, cs["max"]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_after"] = os.getloadavg()[0]
    result["deploy_median_max"] = statistics.median(d["max"] for d in result["deploy"])
    result["deploy_over_t_min"] = result["deploy_median_max"] / result["t_min"]
    result["ring_median"] = statistics.median(result["ring"])
    result["deploy_over_ring"] = result["deploy_median_max"] / result["ring_median"]
    print("T_min %.2f s; deploy median %.2f s = %.2f x T_min; TCP ring floor %.2f s "
          "(deploy = %.2f x floor)" %
          (result["t_min"], result["deploy_median_max"], result["deploy_over_t_min"],
           result["ring_median"], result["deploy_over_ring"]))
    if result["client_server"]:
        result["cs_median_max"] = statistics.median(c["max"] for c in result["client_server"])
        result["speedup"] = result["cs_median_max"] / result["deploy_median_max"]
        print("client-server median %.2f s; deploy is %.1f x faster" %
              (result["cs_median_max"], result["speedup"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if args.plot and result["client_server"]:
        plot(result, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
