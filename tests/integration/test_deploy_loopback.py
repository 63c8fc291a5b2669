#!/usr/bin/env python3
"""starling agent and starling deploy on loopback (issue 9): refusals and faults.

  1. The agent's API refuses a job with a bad HMAC (401), a destination outside --root
     (`..`, absolute, a symlink out: 403), a replayed nonce and a stale time stamp (403), and
     touches nothing on disk for them; a good job is accepted (201) and a retried POST of the
     same document is answered, not run twice (200).
  2. A deploy of a 12 MiB artifact to three agents (each held to 3 MiB/s down): one agent is
     SIGKILLed mid-deploy and stays down, one is SIGTERMed and restarted on the same ports (its
     job resumes from its records). deploy must exit 1, list the dead one as failed, and the
     other two must hold byte-identical copies.
  3. Disk full: an agent whose --root is a 4 MiB tmpfs (root only; skipped otherwise) reports
     the job failed with the disk's error, and deploy exits 1 naming it.
Bounded: about 20 s.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, json_events, starling_path, stop_process,  # noqa: E402
                            temp_dir, write_random)
from deploy_common import SECRET, http_json, same_file, sign_job, start_agent  # noqa: E402


def agent_command(starling, root, secret_file, api_port, peer_port, extra=()):
    return [starling, "agent", "--listen", "127.0.0.1:%d" % api_port, "--peer-listen",
            "127.0.0.1:%d" % peer_port, "--root", root, "--secret-file", secret_file,
            "--stall-timeout", "30", *extra]


def refusals(c, starling, work, secret_file):
    root = os.path.join(work, "refuse-root")
    outside = os.path.join(work, "outside")
    os.makedirs(root)
    os.makedirs(outside)
    os.symlink(outside, os.path.join(root, "link"))
    write_random(os.path.join(work, "small", "a.bin"), 50_000)
    torrent_file = os.path.join(work, "small.torrent")
    subprocess.run([starling, "create", os.path.join(work, "small", "a.bin"), "-o", torrent_file],
                   check=True, capture_output=True)
    torrent = open(torrent_file, "rb").read()
    write_random(os.path.join(work, "small", "b.bin"), 50_000)
    subprocess.run([starling, "create", os.path.join(work, "small", "b.bin"), "-o", torrent_file],
                   check=True, capture_output=True)
    other_torrent = open(torrent_file, "rb").read()
    proc, port = start_agent(agent_command(starling, root, secret_file, 0, 0))
    api = "http://127.0.0.1:%d/v1/jobs" % port
    try:
        status, body = http_json("POST", api, sign_job(b"not the secret at all!", "j1", torrent, "r"))
        c.equal(status, 401, "bad HMAC refused with 401")
        c.check("bad HMAC" in body.get("error", ""), "the error says bad HMAC", str(body))
        for dest in ("../escape", "/etc", "link/inside", "a/../../b"):
            status, body = http_json("POST", api, sign_job(SECRET, "d%d" % len(dest), torrent, dest))
            c.equal(status, 403, "destination %r refused with 403" % dest)
        c.equal(os.listdir(outside), [], "nothing written outside --root")
        status, _ = http_json("POST", api,
                              sign_job(SECRET, "old", torrent, "r", issued_at=int(time.time()) - 3600))
        c.equal(status, 403, "a job signed an hour ago is refused")
        good = sign_job(SECRET, "good", torrent, "r", nonce="ab" * 16)
        status, body = http_json("POST", api, good)
        c.equal(status, 201, "a good job is accepted")
        status, body = http_json("POST", api, good)
        c.equal(status, 200, "the same document again is answered as the same job")
        status, body = http_json("POST", api, sign_job(SECRET, "copy", other_torrent, "r2",
                                                      nonce="ab" * 16))
        c.equal(status, 403, "a replayed nonce is refused")
        status, body = http_json("GET", api)
        c.equal(sorted(j["id"] for j in body.get("jobs", [])), ["good"], "only the good job exists")
        status, _ = http_json("GET", api + "/nope")
        c.equal(status, 404, "unknown job is 404")
    finally:
        stop_process(proc)


def faults(c, starling, work, secret_file):
    artifact = os.path.join(work, "art", "app.bin")
    write_random(artifact, 12 << 20)
    agents = []
    for i in range(3):
        root = os.path.join(work, "agent%d" % i)
        os.makedirs(root)
        cmd = agent_command(starling, root, secret_file, free_port(), free_port(),
                            ("--max-down", "3m"))
        proc, port = start_agent(cmd)
        agents.append({"root": root, "cmd": cmd, "proc": proc, "port": port})
    hosts = os.path.join(work, "hosts")
    with open(hosts, "w") as f:
        f.write("# three agents\n")
        for i, a in enumerate(agents):
            f.write("127.0.0.1:%d rack%d\n" % (a["port"], i % 2))
    deploy = subprocess.Popen(
        [starling, "deploy", artifact, "--hosts", hosts, "--secret-file", secret_file,
         "--dest", "rel/v1", "--json", "--seed-after", "5", "--unreachable-after", "4",
         "--timeout", "60", "--tracker-listen", "127.0.0.1:0", "--peer-listen", "127.0.0.1:0",
         "--origin-address", "127.0.0.1", "--max-up", "6m"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)
        agents[2]["proc"].send_signal(signal.SIGKILL)  # dies for good
        agents[1]["proc"].send_signal(signal.SIGTERM)  # restarts on the same ports
        agents[1]["proc"].wait(timeout=10)
        agents[1]["proc"], _ = start_agent(agents[1]["cmd"])
        out, err = deploy.communicate(timeout=60)
    finally:
        if deploy.poll() is None:
            deploy.kill()
            out, err = deploy.communicate()
        for a in agents:
            stop_process(a["proc"])
    c.equal(deploy.returncode, 1, "deploy exits 1 when a host failed")
    events = json_events(out)
    summary = [e for e in events if e.get("event") == "summary"]
    if not c.check(summary, "a summary event", out[-2000:] + err[-2000:]):
        return
    s = summary[-1]
    states = {h["host"]: h for h in s["per_host"]}
    dead = "127.0.0.1:%d" % agents[2]["port"]
    c.equal(states[dead]["state"], "failed", "the killed agent is reported failed")
    c.check("answer" in states[dead].get("reason", ""), "its reason says it stopped answering",
            str(states[dead]))
    for a in agents[:2]:
        name = "127.0.0.1:%d" % a["port"]
        c.equal(states[name]["state"], "verified", "%s verified" % name)
        copy = os.path.join(a["root"], "rel", "v1", "app.bin")
        c.check(os.path.exists(copy) and same_file(copy, artifact), "%s holds an identical copy" % name)
    c.equal(s["verified"], 2, "two of three verified")
    print("deploy summary: p50 %.2f s, max %.2f s, origin copies %.2f" %
          (s["p50"], s["max"], s["origin_copies"]))


def disk_full(c, starling, work, secret_file):
    if os.geteuid() != 0:
        print("SKIP: disk-full check needs root (mount -t tmpfs)")
        return
    root = os.path.join(work, "tiny")
    os.makedirs(root)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", root]).returncode != 0:
        print("SKIP: cannot mount a tmpfs")
        return
    try:
        artifact = os.path.join(work, "big", "big.bin")
        write_random(artifact, 12 << 20)
        proc, port = start_agent(agent_command(starling, root, secret_file, 0, 0))
        hosts = os.path.join(work, "hosts-tiny")
        with open(hosts, "w") as f:
            f.write("127.0.0.1:%d\n" % port)
        try:
            r = subprocess.run(
                [starling, "deploy", artifact, "--hosts", hosts, "--secret-file", secret_file,
                 "--dest", "d", "--json", "--timeout", "30", "--tracker-listen", "127.0.0.1:0",
                 "--peer-listen", "127.0.0.1:0", "--origin-address", "127.0.0.1"],
                capture_output=True, text=True, timeout=60)
        finally:
            stop_process(proc)
        c.equal(r.returncode, 1, "deploy to a full disk exits 1")
        s = [e for e in json_events(r.stdout) if e.get("event") == "summary"]
        if c.check(s, "a summary event", r.stdout[-1000:] + r.stderr[-1000:]):
            h = s[-1]["per_host"][0]
            c.equal(h["state"], "failed", "the host is reported failed")
            c.check("space" in h.get("reason", ""), "its reason names the full disk", str(h))
    finally:
        subprocess.run(["umount", "-l", root])


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    c = Checker()
    with temp_dir("starling-deploy-") as work:
        secret_file = os.path.join(work, "secret")
        with open(secret_file, "wb") as f:
            f.write(SECRET + b"\n")
        os.chmod(secret_file, 0o600)
        refusals(c, starling, work, secret_file)
        faults(c, starling, work, secret_file)
        disk_full(c, starling, work, secret_file)
    return c.summary("test_deploy_loopback")


if __name__ == "__main__":
    sys.exit(main())
