"""Shared pieces of the deploy tests and benchmark (issue 9): not a test itself.

  * `sign_job`: a job document signed as src/deploy/job_document.cpp does (HMAC-SHA256 over
    length-prefixed fields), so a test can forge, alter or replay one;
  * `start_agent`: a `starling agent` with its API port read from its first line;
  * `http_json`: one request to an agent's API, the status and the decoded body.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

SECRET = b"deploy-test-secret-0123456789abcdef"


def _field(value):
    if isinstance(value, str):
        value = value.encode()
    return str(len(value)).encode() + b":" + value + b","


def sign_job(secret, job_id, torrent, dest, issued_at=None, nonce=None, seed_after=0,
             on_done="", peers=()):
    issued_at = int(time.time()) if issued_at is None else issued_at
    nonce = nonce or os.urandom(16).hex()
    signed = (b"starling-job-v1\n" + _field(job_id) + _field(torrent) + _field(dest) +
              _field(str(seed_after)) + _field(on_done) + str(len(peers)).encode() + b":" +
              b"".join(_field(p) for p in peers) + _field(str(issued_at)) + _field(nonce))
    mac = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return json.dumps({"v": 1, "id": job_id, "torrent": base64.b64encode(torrent).decode(),
                       "dest": dest, "seed_after": seed_after, "on_done": on_done,
                       "peers": list(peers), "issued_at": issued_at, "nonce": nonce,
                       "hmac": mac}).encode()


def http_json(method, url, body=None, timeout=5):
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def start_agent(command, timeout=10):
    """Starts `command` (a `starling agent ...` argv, maybe behind `ip netns exec`) and returns
    (process, api port) once it printed its address line."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"API http://[^ ]*:(\d+)/", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    out, err = proc.communicate()
    raise RuntimeError("agent did not start: %s %s" % (out, err))


def same_file(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        while True:
            p, q = x.read(1 << 20), y.read(1 << 20)
            if p != q:
                return False
            if not p:
                return True


# ---------------------------------------------------------------------------------------------
# A fleet of network namespaces: one "switch" namespace holding a bridge, and one namespace per
# host joined to it by a veth pair. Every host's link is held to `rate` both ways by tbf: on its
# own end (what it sends) and on the switch's end (what it receives).

def netns_available():
    """None when namespaces, veth, bridges and tbf work here, else the reason they do not."""
    if os.geteuid() != 0:
        return "needs root (ip netns)"
    for tool in ("ip", "tc"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return "no `%s` command" % tool
    name = "stl-probe-%d" % os.getpid()
    try:
        r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
        if r.returncode != 0:
            return "ip netns add failed: " + r.stderr.strip()
        for cmd in (["ip", "link", "add", "br0", "type", "bridge"],
                    ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["tc", "qdisc", "add", "dev", "v0", "root", "tbf", "rate", "100mbit",
                     "burst", "64kb", "latency", "20ms"]):
            r = subprocess.run(["ip", "netns", "exec", name] + cmd, capture_output=True, text=True)
            if r.returncode != 0:
                return "%s failed: %s" % (" ".join(cmd), r.stderr.strip())
        return None
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


class NetnsFleet:
    """Namespaces PREFIX-sw (the bridge) and PREFIX-h0..hN (h0 is the origin). Addresses
    10.78.0.1 (h0), 10.78.0.11.. (the others). Use as a context manager: removes everything."""

    def __init__(self, hosts, rate="100mbit", subnet="10.78.0", latency="20ms"):
        self.prefix = "stl-dep%d" % (os.getpid() % 100000)
        self.count = hosts + 1
        self.rate = rate
        self.latency = latency  # tbf queue length, as time at `rate`
        self.subnet = subnet
        self.names = ["%s-h%d" % (self.prefix, i) for i in range(self.count)]
        self.switch = self.prefix + "-sw"

    def address(self, i):
        return "%s.%d" % (self.subnet, 1 if i == 0 else 10 + i)

    def _ip(self, *args, ns=None):
        cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))

    def __enter__(self):
        try:
            self._ip("ip", "netns", "add", self.switch)
            self._ip("ip", "link", "add", "br0", "type", "bridge", ns=self.switch)
            self._ip("ip", "link", "set", "br0", "up", ns=self.switch)
            tbf = ["tbf", "rate", self.rate, "burst", "64kb", "latency", self.latency]
            for i, ns in enumerate(self.names):
                self._ip("ip", "netns", "add", ns)
                host_end = "%sa%d" % (self.prefix[-5:], i)
                switch_end = "%sb%d" % (self.prefix[-5:], i)
                self._ip("ip", "link", "add", host_end, "type", "veth", "peer", "name", switch_end)
                self._ip("ip", "link", "set", host_end, "netns", ns)
                self._ip("ip", "link", "set", switch_end, "netns", self.switch)
                self._ip("ip", "link", "set", switch_end, "master", "br0", ns=self.switch)
                self._ip("ip", "link", "set", switch_end, "up", ns=self.switch)
                self._ip("tc", "qdisc", "add", "dev", switch_end, "root", *tbf, ns=self.switch)
                self._ip("ip", "link", "set", host_end, "name", "eth0", ns=ns)
                self._ip("ip", "addr", "add", self.address(i) + "/24", "dev", "eth0", ns=ns)
                self._ip("ip", "link", "set", "eth0", "up", ns=ns)
                self._ip("ip", "link", "set", "lo", "up", ns=ns)
                self._ip("tc", "qdisc", "add", "dev", "eth0", "root", *tbf, ns=ns)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for ns in self.names + [self.switch]:
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                try:
                    os.kill(int(pid), 9)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        return False

    def exec(self, i):
        """The argv prefix that runs a command in host i's namespace."""
        return ["ip", "netns", "exec", self.names[i]]
