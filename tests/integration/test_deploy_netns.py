#!/usr/bin/env python3
"""`starling deploy` to 12 agents in network namespaces (issue 9).

Thirteen namespaces on one bridge (its own namespace), each link held to 100 Mbit/s both ways
by tbf: the origin (deploy: tracker, origin seed) and 12 hosts running `starling agent`. A
64 MiB artifact is deployed; deploy must exit 0, every host must hold a byte-identical copy,
and the times are printed with T_min for the declared 100 Mbit/s links (T_min = 5.4 s).

Needs root, `ip netns`, bridges and tbf; prints "SKIP: ..." and exits 0 without them. The
namespaces carry this process's pid in their names and are removed at the end, also on failure.
Bounded: deploy gets 90 s.
"""

import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import Checker, json_events, starling_path, stop_process, temp_dir  # noqa: E402
from deploy_common import SECRET, NetnsFleet, netns_available, start_agent  # noqa: E402

HOSTS = 12
SIZE = 64 << 20
RATE = "100mbit"
API_PORT = 7070
PEER_PORT = 6881


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                return h.hexdigest()
            h.update(block)


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    why = netns_available()
    if why:
        print("SKIP: network namespaces unavailable: %s" % why)
        return 0
    c = Checker()
    with temp_dir("starling-deploy-netns-") as work, NetnsFleet(HOSTS, RATE) as fleet:
        os.chmod(work, 0o755)
        artifact = os.path.join(work, "origin", "app.bin")
        os.makedirs(os.path.dirname(artifact))
        with open(artifact, "wb") as f:
            f.write(os.urandom(SIZE))
        want = sha256(artifact)
        secret_file = os.path.join(work, "secret")
        with open(secret_file, "wb") as f:
            f.write(SECRET)
        agents = []
        try:
            with open(os.path.join(work, "hosts"), "w") as hosts:
                for i in range(1, HOSTS + 1):
                    root = os.path.join(work, "host%d" % i)
                    os.makedirs(root)
                    address = fleet.address(i)
                    proc, _ = start_agent(fleet.exec(i) + [
                        starling, "agent", "--listen", "%s:%d" % (address, API_PORT),
                        "--peer-listen", "%s:%d" % (address, PEER_PORT), "--root", root,
                        "--secret-file", secret_file, "--stall-timeout", "60"])
                    agents.append((proc, root))
                    hosts.write("%s:%d rack%d\n" % (address, API_PORT, (i - 1) // 4))
            origin = fleet.address(0)
            deploy = subprocess.run(
                fleet.exec(0) + [starling, "deploy", artifact, "--hosts",
                                 os.path.join(work, "hosts"), "--secret-file", secret_file,
                                 "--dest", "releases/1", "--json", "--seed-after", "10",
                                 "--timeout", "90", "--origin-address", origin,
                                 "--tracker-listen", "%s:6969" % origin,
                                 "--peer-listen", "%s:%d" % (origin, PEER_PORT),
                                 "--origin-up", RATE, "--host-down", RATE],
                capture_output=True, text=True, timeout=120)
        finally:
            for proc, _ in agents:
                stop_process(proc)
        c.equal(deploy.returncode, 0, "deploy exits 0")
        summary = [e for e in json_events(deploy.stdout) if e.get("event") == "summary"]
        if c.check(summary, "a summary event", deploy.stdout[-3000:] + deploy.stderr[-3000:]):
            s = summary[-1]
            c.equal(s["verified"], HOSTS, "every host verified")
            print("deploy of 64 MiB to %d hosts at %s: p50 %.2f s, p99 %.2f s, max %.2f s, "
                  "T_min %.2f s (max/T_min %.2f), origin sent %.2f copies" %
                  (HOSTS, RATE, s["p50"], s["p99"], s["max"], s["t_min"], s["max_over_t_min"],
                   s["origin_copies"]))
            for h in s["per_host"]:
                if h["state"] != "verified":
                    print("  %s: %s %s" % (h["host"], h["state"], h.get("reason", "")))
        for i, (_, root) in enumerate(agents, start=1):
            copy = os.path.join(root, "releases", "1", "app.bin")
            c.check(os.path.exists(copy) and sha256(copy) == want,
                    "host %d holds a byte-identical copy" % i)
    return c.summary("test_deploy_netns")


if __name__ == "__main__":
    sys.exit(main())
