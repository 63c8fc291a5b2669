#!/usr/bin/env python3
"""`starling daemon` driven by Debian's transmission-remote (Transmission 3.00), fed by a
libtorrent seed over loopback.

  * -si prints the session with its limits; -d sets the global download limit;
  * -a FILE.torrent and -a MAGNET add torrents; -l lists them with the right percent and status;
  * -t 1 -S stops, -t 1 -s starts; -t 1 -r removes;
  * --watch-dir adds a dropped .torrent and renames it NAME.added;
  * SIGTERM and SIGKILL mid-download: after a restart the torrents, their paused/started state
    and their verified pieces are all there; the download then completes and -l shows 100%;
  * the HTTP rules: 409 with X-Transmission-Session-Id, never X-Transmission-Rpc-Version, 421
    for a foreign Host;
  * /metrics parses with a strict text-format parser and its counters move while downloading.
"""

import filecmp
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, lt, starling_path, stop_process,  # noqa: E402
                            temp_dir, wait_for, write_random)

DEADLINE = 40
SIZE_A = 6 * 1024 * 1024 + 4321   # added as a .torrent, rate-limited so it is caught mid-way
SIZE_B = 1 * 1024 * 1024 + 99     # added as a magnet
LIMIT_KB = 400                     # kB/s while the kill tests run


def lt_session(port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    })


class Daemon:
    def __init__(self, starling, config, downloads, seed_port, work):
        self.watch = os.path.join(work, "watch")
        self.cmd = [starling, "daemon", "--config-dir", config, "--download-dir", downloads,
                    "--no-dht", "--tcp-only", "--peer", "127.0.0.1:%d" % seed_port,
                    "--watch-dir", self.watch]
        self.work = work
        self.proc = None
        self.rpc_port = None
        self.listen_port = None
        self.runs = 0

    def start(self):
        self.rpc_port = free_port()
        self.listen_port = free_port()
        self.runs += 1
        self.log = open(os.path.join(self.work, "daemon-%d.log" % self.runs), "w")
        # Not under `timeout`: SIGKILL must reach the daemon itself, not a wrapper.
        self.proc = subprocess.Popen(
            self.cmd + ["--rpc", "127.0.0.1:%d" % self.rpc_port,
                                               "--listen", "127.0.0.1:%d" % self.listen_port, "-v"],
            stdout=self.log, stderr=subprocess.STDOUT)
        return wait_for(self.answers, 10)

    def answers(self):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.rpc_port, timeout=1)
            return True
        except (urllib.error.URLError, ConnectionError):
            return False

    def remote(self, *args):
        r = subprocess.run(["transmission-remote", "127.0.0.1:%d" % self.rpc_port, *args],
                           capture_output=True, text=True, timeout=20)
        return r.returncode, r.stdout + r.stderr

    def rows(self):
        """-l as {id: (percent or None, status text, name)}."""
        code, out = self.remote("-l")
        rows = {}
        for line in out.splitlines():
            m = re.match(r"\s*(\d+)\*?\s+(\d+%|n/a)\s+(.*)$", line)
            if not m:
                continue
            percent = None if m.group(2) == "n/a" else int(m.group(2)[:-1])
            rows[int(m.group(1))] = (percent, m.group(3))
        return rows

    def rpc(self, method, arguments):
        """One RPC call over plain HTTP (session-id handshake included); the reply object."""
        url = "http://127.0.0.1:%d/transmission/rpc" % self.rpc_port
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        headers = {}
        for _ in range(2):
            try:
                with urllib.request.urlopen(urllib.request.Request(url, body, headers),
                                            timeout=5) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 409:
                    raise
                headers["X-Transmission-Session-Id"] = e.headers["X-Transmission-Session-Id"]
        return None

    def signal(self, sig):
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def log_tail(self):
        with open(os.path.join(self.work, "daemon-%d.log" % self.runs)) as f:
            return "\n".join(line for line in f.read().splitlines()
                             if "rechoke" not in line)[-2500:]


def parse_prometheus(text):
    """A strict Prometheus text-format (0.0.4) parser: {(name, labels tuple): value}. Raises
    ValueError on any line that does not follow the format."""
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    types = {}
    samples = {}
    for line in text.split("\n")[:-1] if text.endswith("\n") else None:
        if line.startswith("# HELP "):
            if not re.match(r"# HELP (%s) .*$" % name_re, line):
                raise ValueError("bad HELP: " + line)
            continue
        if line.startswith("# TYPE "):
            m = re.match(r"# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % name_re, line)
            if not m or m.group(1) in types:
                raise ValueError("bad or repeated TYPE: " + line)
            types[m.group(1)] = m.group(2)
            continue
        if line.startswith("#") or not line:
            raise ValueError("unexpected line: %r" % line)
        m = re.match(r"(%s)(\{(.*)\})? (\S+)$" % name_re, line)
        if not m:
            raise ValueError("bad sample: " + line)
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        labels = []
        pos = 0
        while pos < len(labels_text):
            lm = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)').match(
                labels_text, pos)
            if not lm:
                raise ValueError("bad labels: " + line)
            labels.append((lm.group(1), lm.group(2)))
            pos = lm.end()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        kind = types.get(name) or types.get(family)
        if kind is None:
            raise ValueError("sample before its TYPE: " + line)
        if kind == "counter" and not name.endswith("_total"):
            raise ValueError("counter without _total: " + name)
        float(value)  # raises on a bad number
        key = (name, tuple(labels))
        if key in samples:
            raise ValueError("duplicate series: " + line)
        samples[key] = float(value)
    return samples


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    if shutil.which("transmission-remote") is None:
        print("FAIL: transmission-remote missing; run scripts/deps.sh (package transmission-cli)")
        return 1
    c = Checker()
    with temp_dir("starling-daemon-") as work:
        seed_dir = os.path.join(work, "seed")
        write_random(os.path.join(seed_dir, "alpha.bin"), SIZE_A)
        write_random(os.path.join(seed_dir, "beta.bin"), SIZE_B)
        torrents = {}
        for name in ("alpha", "beta"):
            path = os.path.join(work, name + ".torrent")
            r = subprocess.run([starling, "create", os.path.join(seed_dir, name + ".bin"), "-o",
                                path, "--piece-size", "64k", "-q"], capture_output=True, timeout=30)
            c.equal(r.returncode, 0, "create %s" % name)
            torrents[name] = path
        seed_port = free_port()
        ses = lt_session(seed_port)
        handles = [ses.add_torrent({"ti": lt.torrent_info(torrents[n]), "save_path": seed_dir})
                   for n in ("alpha", "beta")]
        c.check(wait_for(lambda: all(h.status().is_seeding for h in handles), DEADLINE),
                "libtorrent seeds both torrents")
        beta_hash = str(lt.torrent_info(torrents["beta"]).info_hash())

        config = os.path.join(work, "config")
        downloads = os.path.join(work, "downloads")
        d = Daemon(starling, config, downloads, seed_port, work)
        if not c.check(d.start(), "the daemon answers on its RPC port"):
            return c.summary("test_daemon")
        try:
            # The HTTP rules, seen by a plain client.
            url = "http://127.0.0.1:%d/transmission/rpc" % d.rpc_port
            body = json.dumps({"method": "session-get", "tag": 9}).encode()
            try:
                urllib.request.urlopen(urllib.request.Request(url, body), timeout=5)
                c.check(False, "a request without a session id gets 409")
            except urllib.error.HTTPError as e:
                c.equal(e.code, 409, "a request without a session id gets 409")
                sid = e.headers.get("X-Transmission-Session-Id")
                c.check(sid, "the 409 carries X-Transmission-Session-Id")
                c.check(e.headers.get("X-Transmission-Rpc-Version") is None,
                        "no X-Transmission-Rpc-Version header")
                with urllib.request.urlopen(urllib.request.Request(
                        url, body, {"X-Transmission-Session-Id": sid}), timeout=5) as r:
                    reply = json.loads(r.read())
                    c.equal((reply.get("result"), reply.get("tag")), ("success", 9),
                            "session-get with the id succeeds and echoes the tag")
            try:
                urllib.request.urlopen(urllib.request.Request(
                    url, body, {"Host": "rebound.example.com"}), timeout=5)
                c.check(False, "a foreign Host gets 421")
            except urllib.error.HTTPError as e:
                c.equal(e.code, 421, "a foreign Host gets 421")

            code, out = d.remote("-d", str(LIMIT_KB))
            c.equal(code, 0, "-d sets the download limit: %s" % out)
            code, out = d.remote("-si")
            c.equal(code, 0, "-si exit code")
            c.check(re.search(r"Download speed limit:.*%d(\.0)? kB/s" % LIMIT_KB, out),
                    "-si shows the limit", out)
            c.check("RPC version: 17" in out, "-si shows the RPC version", out[:600])

            code, out = d.remote("-a", torrents["alpha"])
            c.check(code == 0 and "success" in out, "-a FILE.torrent", out)
            c.check(wait_for(lambda: 3 <= (d.rows().get(1, (0, ""))[0] or 0) <= 60, DEADLINE),
                    "-l shows torrent 1 part-way", repr(d.rows()))
            c.check(wait_for(lambda: re.search(r"(Downloading|Up & Down) +alpha\.bin$",
                                               d.rows().get(1, (0, ""))[1]), 5),
                    "-l: status Downloading and the name", repr(d.rows()))

            peers = d.rpc("torrent-get", {"ids": [1], "fields": ["peers", "peersConnected"]})
            t = peers["arguments"]["torrents"][0]
            c.check(t["peersConnected"] >= 1 and any(
                p["address"] == "127.0.0.1" and p["port"] == seed_port and
                p["clientName"].startswith("LT") and p["rateToClient"] >= 0 for p in t["peers"]),
                "torrent-get peers lists the libtorrent seed", repr(t))

            # -d holds it: about LIMIT_KB kB/s (6.3 MB at 400 kB/s is ~6% a second).
            p0 = d.rows().get(1, (0, ""))[0] or 0
            time.sleep(2)
            p1 = d.rows().get(1, (0, ""))[0] or 0
            c.check(0 < p1 - p0 <= 2 * 2 * LIMIT_KB * 1000 * 100 // SIZE_A,
                    "the download limit holds: %d%% -> %d%% in 2 s" % (p0, p1))

            _, text = metrics(d.rpc_port)
            first = parse_prometheus(text)
            time.sleep(1.5)
            content_type, text = metrics(d.rpc_port)
            c.check(content_type.startswith("text/plain; version=0.0.4"), "metrics content type",
                    content_type)
            try:
                second = parse_prometheus(text)
                down = ("starling_payload_bytes_total", (("direction", "down"),))
                c.check(second.get(down, 0) > first.get(down, 0),
                        "the downloaded-bytes counter moves during a download",
                        "%r -> %r" % (first.get(down), second.get(down)))
                c.check(any(k[0] == "starling_build_info" for k in second), "starling_build_info")
                c.equal(second.get(("starling_torrents", (("state", "downloading"),))), 1.0,
                        "one torrent downloading")
            except ValueError as e:
                c.check(False, "/metrics parses", str(e))

            code, out = d.remote("-t", "1", "-S")
            c.equal(code, 0, "-t 1 -S")
            c.check(wait_for(lambda: "Stopped" in d.rows().get(1, (0, ""))[1], 5),
                    "-l shows Stopped", repr(d.rows()))
            stopped_at = d.rows().get(1, (0, ""))[0] or 0
            time.sleep(1)
            c.equal(d.rows().get(1, (0, ""))[0], stopped_at, "a stopped torrent does not progress")
            code, out = d.remote("-t", "1", "-s")
            c.equal(code, 0, "-t 1 -s")
            c.check(wait_for(lambda: (d.rows().get(1, (0, ""))[0] or 0) > stopped_at, 15),
                    "started again, it progresses", repr(d.rows()))

            # SIGTERM mid-download: state saved, torrent back and still started after a restart.
            before = d.rows().get(1, (0, ""))[0] or 0
            d.signal(signal.SIGTERM)
            c.equal(d.proc.returncode, 0, "SIGTERM: clean exit (log: %s)" % d.log_tail()[-400:])
            c.check(d.start(), "restarts after SIGTERM")
            row = d.rows().get(1)
            c.check(row is not None and row[0] is not None and row[0] >= before and row[0] < 100,
                    "after SIGTERM: torrent 1 is back with its pieces (%d%% before)" % before,
                    repr(row))
            c.check(row is not None and "Stopped" not in row[1], "after SIGTERM: still started",
                    repr(row))
            code, out = d.remote("-si")
            c.check(re.search(r"Download speed limit:.*%d(\.0)? kB/s" % LIMIT_KB, out),
                    "after SIGTERM: the limit is kept", out[-600:])

            # SIGKILL mid-download: the verified pieces are found again (resume data or a check).
            c.check(wait_for(lambda: (d.rows().get(1, (0, ""))[0] or 0) >= before + 10, 20),
                    "progress after the restart", repr(d.rows()))
            before = d.rows().get(1, (0, ""))[0] or 0
            d.signal(signal.SIGKILL)
            c.check(d.start(), "restarts after SIGKILL")
            row = d.rows().get(1)
            c.check(row is not None and row[0] is not None and row[0] >= before - 2,
                    "after SIGKILL: torrent 1 is back with its verified pieces (%d%% before)"
                    % before, repr(row))

            # Lift the limit: the download completes and -l shows 100%.
            code, out = d.remote("-D")
            c.equal(code, 0, "-D lifts the limit")
            c.check(wait_for(lambda: d.rows().get(1, (0, ""))[0] == 100, DEADLINE),
                    "-l shows 100%", repr(d.rows()))
            c.check(wait_for(lambda: "Seeding" in d.rows().get(1, (0, ""))[1] or
                             "Idle" in d.rows().get(1, (0, ""))[1], 5),
                    "-l: seeding once complete", repr(d.rows()))
            got = os.path.join(downloads, "alpha.bin")
            c.check(os.path.exists(got) and filecmp.cmp(got, os.path.join(seed_dir, "alpha.bin"),
                                                        shallow=False),
                    "the downloaded data is identical")

            # A magnet: metadata from the seed, then the data.
            code, out = d.remote("-a", "magnet:?xt=urn:btih:%s&dn=beta" % beta_hash)
            c.check(code == 0 and "success" in out, "-a MAGNET", out)
            c.check(wait_for(lambda: d.rows().get(2, (0, ""))[0] == 100, DEADLINE),
                    "the magnet completes: -l shows 100%", repr(d.rows()))
            got = os.path.join(downloads, "beta.bin")
            c.check(os.path.exists(got) and filecmp.cmp(got, os.path.join(seed_dir, "beta.bin"),
                                                        shallow=False),
                    "the magnet's data is identical")

            code, out = d.remote("-t", "1", "-r")
            c.equal(code, 0, "-t 1 -r")
            c.check(wait_for(lambda: 1 not in d.rows() and 2 in d.rows(), 5),
                    "-l no longer lists torrent 1", repr(d.rows()))
            c.check(os.path.exists(os.path.join(downloads, "alpha.bin")),
                    "-r (not --remove-and-delete) keeps the data")

            # The watch directory: a .torrent dropped there is added (its data is already here,
            # so it checks complete) and renamed NAME.added.
            shutil.copy(torrents["alpha"], os.path.join(d.watch, "dropped.torrent"))
            c.check(wait_for(lambda: d.rows().get(3, (0, ""))[0] == 100, 10),
                    "--watch-dir: the dropped torrent is added and complete",
                    "%s, watch dir: %r, rpc: %r" % (d.remote("-l")[1], os.listdir(d.watch),
                                                    d.rpc("torrent-get", {"fields": [
                                                        "id", "name", "eta", "uploadRatio",
                                                        "status", "error", "leftUntilDone"]})))
            c.check(os.path.exists(os.path.join(d.watch, "dropped.torrent.added")),
                    "--watch-dir: the file is renamed .added")
        finally:
            if d.proc and d.proc.poll() is None:
                d.signal(signal.SIGTERM)
            if c.failures:
                print("daemon log tail:\n" + d.log_tail())
    return c.summary("test_daemon")


if __name__ == "__main__":
    sys.exit(main())
