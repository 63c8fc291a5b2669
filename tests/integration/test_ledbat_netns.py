#!/usr/bin/env python3
"""LEDBAT behaviour (issue 6): starling's uTP on a bloated 20 Mbit/s uplink, in network namespaces.

Three namespaces joined by veth pairs: A (the sender: the seed, a CUBIC TCP source, the delay
prober) -- R (a router, ip_forward=1, `tbf rate 20mbit burst 32kbit latency 500ms` on its
interface towards B) -- B (the receiver: the leecher, the TCP sink, a UDP echo). The queue sits
in R because a qdisc on the sender's own interface is held short by local back-pressure.

Queuing delay is measured with small UDP probes (20/s) from A to an echo in B through R: the
round trip minus the base round trip measured on the idle path first (netem and ping are not
available here). Throughput: uTP's from the leecher's --json `done` bytes, TCP's from the
sink's byte count, the link's total from tbf's counters.

Phases: (1) a CUBIC TCP flow alone, (2) starling uTP alone (seed in A, --utp-only leecher in B),
(3) a CUBIC TCP flow starts beside uTP, (4) the TCP flow ends and uTP recovers. Checked, as the
issue asks: uTP alone fills >= 80% of the link with a median queuing delay near LEDBAT's 100 ms
target (<= 200 ms, and clearly below TCP's); TCP alone pushes the delay up (median >= 250 ms,
which checks the setup); beside TCP, uTP's share of the link drops below 20% within 5 s, and
comes back above 60% within 5 s of the TCP flow's end. Every number is printed.

Needs root, `ip netns` and the tbf qdisc; prints "SKIP: ..." and exits 0 without them. The
namespaces carry this process's pid in their names and are removed at the end, also on failure.
"""

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, starling_path, stop_process, temp_dir,  # noqa: E402
                            write_random)

RATE_BPS = 20_000_000  # the shaped link, bits per second
TBF = ["tbf", "rate", "20mbit", "burst", "32kbit", "latency", "500ms"]
SIZE = 128 * 1024 * 1024  # outlasts the phases (64 MiB take ~27 s at the full 20 Mbit/s)
PIECE = "64k"  # small pieces: the leecher's `done` moves in fine steps
PROBES_PER_S = 20

TCP_ALONE_S = 12.0  # phase 1 (delay measured after the first 2 s; CUBIC fills the queue in ~9 s)
UTP_ALONE_S = 16.0  # phase 2 (measured over the last 10 s)
UTP_ALONE_MEASURE_S = 10.0
TCP_BESIDE_S = 10.0  # phase 3
RECOVERY_S = 10.0  # phase 4
SHARE_DROP_WITHIN_S = 5.0
SHARE_LOW = 0.20
RECOVER_WITHIN_S = 5.0
SHARE_RECOVERED = 0.60

PREFIX = "stl-ledbat-"
A_IP, RA_IP = "10.77.1.1", "10.77.1.2"
RB_IP, B_IP = "10.77.2.1", "10.77.2.2"
ECHO_PORT, TCP_PORT, SEED_PORT = 7001, 7002, 7003

# ---------------------------------------------------------------------------------------------
# Helper programs, run with `python3 -c` inside a namespace. Times are CLOCK_MONOTONIC, which all
# namespaces share, so the test can line their lines up with its own clock.

ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
"""

# Prints "PROBE <send time> <rtt seconds>" for each answered probe, "LOST <send time>" for each
# probe unanswered after 2 s.
PROBER = r"""
import select, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
interval = 1.0 / float(sys.argv[3])
pending = {}
seq = 0
next_send = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_send:
        s.send(struct.pack("!Id", seq, now) + bytes(24))
        pending[seq] = now
        seq += 1
        next_send += interval
    for k in [k for k, t in pending.items() if now - t > 2.0]:
        print("LOST %.6f" % pending.pop(k), flush=True)
    r, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
    if r:
        data = s.recv(2048)
        now = time.monotonic()
        k, sent = struct.unpack("!Id", data[:12])
        if pending.pop(k, None) is not None:
            print("PROBE %.6f %.6f" % (sent, now - sent), flush=True)
"""

# Counts what arrives on each connection; prints "BYTES <time> <total>" every 0.1 s of traffic.
TCP_SINK = r"""
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(4)
total = 0
while True:
    c, _ = l.accept()
    print("OPEN %.6f" % time.monotonic(), flush=True)
    last = 0.0
    while True:
        data = c.recv(1 << 16)
        if not data:
            break
        total += len(data)
        now = time.monotonic()
        if now - last >= 0.1:
            print("BYTES %.6f %d" % (now, total), flush=True)
            last = now
    print("BYTES %.6f %d" % (time.monotonic(), total), flush=True)
    c.close()
"""

# A bulk TCP flow with CUBIC (the system default here is BBR, which keeps queues short; a home
# uplink's competing traffic is loss-based). Prints "CC <name>", then "END <time>" when done.
TCP_SOURCE = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
print("CC %s" % s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode(),
      flush=True)
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(None)
block = bytes(1 << 16)
end = time.monotonic() + float(sys.argv[3])
print("START %.6f" % time.monotonic(), flush=True)
while time.monotonic() < end:
    s.send(block)
print("END %.6f" % time.monotonic(), flush=True)
s.close()
"""


# ---------------------------------------------------------------------------------------------
# Namespaces.

def sh(*cmd, check=True, timeout=15):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r


def remove_stale_namespaces():
    """Namespaces of earlier runs whose process is gone (killed before its cleanup ran)."""
    r = sh("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(re.escape(PREFIX) + r"(\d+)-[ARB]$", name)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            sh("ip", "netns", "del", name, check=False)


class Topology:
    """A -- R -- B, with the tbf on R's interface towards B."""

    def __init__(self):
        pid = os.getpid()
        self.a, self.r, self.b = (PREFIX + "%d-%s" % (pid, x) for x in "ARB")
        self.created = []

    def exec_(self, ns, *cmd):
        return ["ip", "netns", "exec", ns, *cmd]

    def up(self):
        for ns in (self.a, self.r, self.b):
            sh("ip", "netns", "add", ns)
            self.created.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # Created inside the namespaces, so no name ever appears in (or collides in) the host's.
        sh("ip", "-n", self.a, "link", "add", "va", "type", "veth", "peer", "name", "vra",
           "netns", self.r)
        sh("ip", "-n", self.b, "link", "add", "vb", "type", "veth", "peer", "name", "vrb",
           "netns", self.r)
        for ns, dev, addr in ((self.a, "va", A_IP), (self.r, "vra", RA_IP),
                              (self.r, "vrb", RB_IP), (self.b, "vb", B_IP)):
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", self.a, "route", "add", "default", "via", RA_IP)
        sh("ip", "-n", self.b, "route", "add", "default", "via", RB_IP)
        sh(*self.exec_(self.r, "sysctl", "-qw", "net.ipv4.ip_forward=1"))

    def shape(self):
        return sh("tc", "-n", self.r, "qdisc", "add", "dev", "vrb", "root", *TBF, check=False)

    def tbf_counters(self):
        """(bytes, packets, drops) sent by the tbf so far."""
        r = sh("tc", "-n", self.r, "-s", "qdisc", "show", "dev", "vrb", check=False)
        m = re.search(r"Sent (\d+) bytes (\d+) pkt \(dropped (\d+)", r.stdout)
        return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)

    def down(self):
        for ns in reversed(self.created):
            sh("ip", "netns", "del", ns, check=False)
        self.created = []


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces and tc)"
    if not shutil.which("ip") or not shutil.which("tc"):
        return "iproute2 (ip, tc) is not installed"
    return None


# ---------------------------------------------------------------------------------------------
# Processes whose output lines are collected, each with the time it arrived.

class Reader:
    def __init__(self, cmd, name):
        self.name = name
        self.lines = []  # (arrival time, line)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.err = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.rstrip("\n"))

    def stop(self):
        stop_process(self.proc, timeout=5)

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()


def python(topo, ns, code, *args):
    return topo.exec_(ns, sys.executable, "-u", "-c", code, *[str(a) for a in args])


# ---------------------------------------------------------------------------------------------
# Measurements.

def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def probe_samples(prober, start, end):
    """(rtts, lost) of the probes sent in [start, end)."""
    rtts, lost = [], 0
    for _, line in list(prober.lines):
        parts = line.split()
        if parts[0] == "PROBE" and start <= float(parts[1]) < end:
            rtts.append(float(parts[2]))
        elif parts[0] == "LOST" and start <= float(parts[1]) < end:
            lost += 1
    return rtts, lost


def delay_stats(prober, base, start, end):
    rtts, lost = probe_samples(prober, start, end)
    q = [max(0.0, r - base) * 1000 for r in rtts]
    return {"n": len(q), "lost": lost, "median": percentile(q, 50), "p90": percentile(q, 90)}


def series(reader, parse):
    """[(time, cumulative bytes)] from a reader's lines."""
    out = []
    for t, line in list(reader.lines):
        point = parse(t, line)
        if point is not None:
            out.append(point)
    return out


def leecher_point(t, line):
    m = re.search(r'"done":\s*(\d+)', line)
    return (t, int(m.group(1))) if m and '"progress"' in line else None


def sink_point(_t, line):
    parts = line.split()
    return (float(parts[1]), int(parts[2])) if parts and parts[0] == "BYTES" else None


def rate_bps(points, start, end):
    """Bits per second between the first sample at or after `start` and the last one at or
    before `end` (samples are cumulative byte counts; nothing is extrapolated)."""
    inside = [(t, v) for t, v in points if start <= t <= end]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.2:
        return 0.0
    return (inside[-1][1] - inside[0][1]) * 8 / (inside[-1][0] - inside[0][0])


def windows(points, start, end):
    """uTP's share of the 20 Mbit/s link between consecutive leecher reports (about 1 s apart)
    from the last report before `start` on, up to `end`: [(report time, share)]."""
    before = [(t, v) for t, v in points if t <= start]
    inside = [(t, v) for t, v in points if start < t <= end]
    out = []
    prev = before[-1] if before else (inside[0] if inside else None)
    for t, v in inside:
        if t - prev[0] > 0.2:
            out.append((t, (v - prev[1]) * 8 / (t - prev[0]) / RATE_BPS))
            prev = (t, v)
    return out


def mbit(bps):
    return "%.2f Mbit/s" % (bps / 1e6)


# ---------------------------------------------------------------------------------------------

def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    reason = skip_reason()
    if reason:
        print("SKIP: " + reason)
        return 0
    remove_stale_namespaces()
    topo = Topology()
    readers = []
    c = Checker()

    def on_term(signum, _frame):
        # Runs the cleanup below; after a SIGKILL, the next run removes the stale namespaces.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)

    try:
        try:
            topo.up()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print("SKIP: cannot build network namespaces with veth pairs here: %s" % e)
            return 0
        r = topo.shape()
        if r.returncode != 0:
            print("SKIP: the tbf qdisc is not available: %s" % r.stderr.strip())
            return 0
        r = sh(*python(topo, topo.a, "import socket; s = socket.socket(); s.setsockopt("
                       "socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'cubic')"), check=False)
        if r.returncode != 0:
            print("SKIP: TCP CUBIC cannot be chosen per socket here: %s" % r.stderr.strip()[-200:])
            return 0

        with temp_dir("starling-ledbat-") as work:
            return run_phases(topo, starling, work, readers, c)
    finally:
        for reader in readers:
            reader.stop()
        topo.down()


def run_phases(topo, starling, work, readers, c):
    def start(cmd, name):
        reader = Reader(cmd, name)
        readers.append(reader)
        return reader

    seed_dir = os.path.join(work, "seed")
    data = os.path.join(seed_dir, "payload.bin")
    write_random(data, SIZE)
    torrent = os.path.join(work, "payload.torrent")
    r = subprocess.run([starling, "create", data, "-o", torrent, "--piece-size", PIECE, "-q"],
                       capture_output=True, text=True, timeout=60)
    if not c.equal(r.returncode, 0, "create exit code (%s)" % r.stderr.strip()):
        return c.summary("test_ledbat_netns")

    print("link: %s, A %s -- R -- B %s, tbf on R towards B: %s"
          % (mbit(RATE_BPS), A_IP, B_IP, " ".join(TBF)), flush=True)
    start(python(topo, topo.b, ECHO, B_IP, ECHO_PORT), "echo")
    sink = start(python(topo, topo.b, TCP_SINK, B_IP, TCP_PORT), "tcp sink")
    time.sleep(0.5)
    prober = start(python(topo, topo.a, PROBER, B_IP, ECHO_PORT, PROBES_PER_S), "prober")

    # Base round trip on the idle path.
    t0 = time.monotonic()
    time.sleep(2.5)
    idle, idle_lost = probe_samples(prober, t0, t0 + 2.0)
    if not c.check(len(idle) >= 20, "the idle path answers probes",
                   "%d answered, %d lost; prober: %s" % (len(idle), idle_lost, prober.err[-3:])):
        return c.summary("test_ledbat_netns")
    base = min(idle)
    print("idle path: base RTT %.3f ms (min of %d probes; median %.3f ms)"
          % (base * 1000, len(idle), statistics.median(idle) * 1000), flush=True)

    def tcp_flow(seconds):
        src = start(python(topo, topo.a, TCP_SOURCE, B_IP, TCP_PORT, seconds), "tcp source")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(l.startswith("START") for _, l in src.lines):
            time.sleep(0.01)
        lines = dict(l.split(" ", 1) for _, l in src.lines if " " in l)
        c.equal(lines.get("CC"), "cubic", "the competing TCP flow runs CUBIC")
        if "START" not in lines:
            c.check(False, "the TCP flow starts", "; ".join(src.err[-3:]))
            return src, time.monotonic()
        return src, float(lines["START"])

    def tcp_end(src):
        src.wait(TCP_BESIDE_S + 20)
        for _, line in src.lines:
            if line.startswith("END"):
                return float(line.split()[1])
        return time.monotonic()

    # Phase 1: CUBIC alone.
    bytes0 = topo.tbf_counters()
    src, tcp_start = tcp_flow(TCP_ALONE_S)
    end = tcp_end(src)
    bytes1 = topo.tbf_counters()
    tcp_pts = series(sink, sink_point)
    tcp_alone = delay_stats(prober, base, tcp_start + 2.0, end)
    tcp_rate = rate_bps(tcp_pts, tcp_start + 2.0, end)
    print("phase 1, CUBIC TCP alone (%.1f s, measured from 2 s on): %s; queuing delay median "
          "%.1f ms, p90 %.1f ms (%d probes, %d lost); tbf sent %d packets, dropped %d"
          % (end - tcp_start, mbit(tcp_rate), tcp_alone["median"], tcp_alone["p90"],
             tcp_alone["n"], tcp_alone["lost"], bytes1[1] - bytes0[1], bytes1[2] - bytes0[2]),
          flush=True)
    c.check(tcp_alone["median"] >= 250, "TCP alone fills the bloated queue (median >= 250 ms)",
            "median %.1f ms" % tcp_alone["median"])
    time.sleep(2.0)  # the queue drains

    # Phase 2: starling uTP alone.
    seed = start(topo.exec_(topo.a, "timeout", "150", starling, "seed", torrent, seed_dir,
                            "--listen", "%s:%d" % (A_IP, SEED_PORT), "--utp-only",
                            "--skip-check", "-q"), "seed")
    time.sleep(0.5)
    leecher = start(topo.exec_(topo.b, "timeout", "150", starling, "download", torrent,
                               "-o", os.path.join(work, "leech"), "--peer",
                               "%s:%d" % (A_IP, SEED_PORT), "--listen", B_IP + ":0",
                               "--utp-only", "--json", "--timeout", "140"), "leecher")
    utp_start = time.monotonic()
    time.sleep(UTP_ALONE_S - UTP_ALONE_MEASURE_S)
    m0, c0 = time.monotonic(), topo.tbf_counters()
    time.sleep(UTP_ALONE_MEASURE_S)
    m1, c1 = time.monotonic(), topo.tbf_counters()
    utp_pts = series(leecher, leecher_point)
    if not c.check(len(utp_pts) >= 5 and utp_pts[-1][1] > 0, "the leecher reports progress",
                   "leecher: %s; seed: %s" % (leecher.err[-5:], seed.err[-5:])):
        return c.summary("test_ledbat_netns")
    utp_rate = rate_bps(utp_pts, m0, m1)
    link_rate = (c1[0] - c0[0]) * 8 / (m1 - m0)
    utp_alone = delay_stats(prober, base, m0, m1)
    print("phase 2, starling uTP alone (measured %.1f-%.1f s after the leecher started): "
          "payload %s = %.1f%% of the link (tbf sent %s, dropped %d packets); queuing delay "
          "median %.1f ms, p90 %.1f ms (%d probes, %d lost)"
          % (m0 - utp_start, m1 - utp_start, mbit(utp_rate), 100 * utp_rate / RATE_BPS,
             mbit(link_rate), c1[2] - c0[2], utp_alone["median"], utp_alone["p90"],
             utp_alone["n"], utp_alone["lost"]), flush=True)
    c.check(utp_rate >= 0.80 * RATE_BPS, "uTP alone fills >= 80% of the link",
            "%.1f%%" % (100 * utp_rate / RATE_BPS))
    c.check(utp_alone["median"] <= 200, "uTP alone keeps the median queuing delay near the "
            "100 ms target (<= 200 ms)", "median %.1f ms" % utp_alone["median"])
    c.check(utp_alone["median"] <= 0.7 * tcp_alone["median"],
            "uTP alone queues clearly less than TCP alone (<= 70% of its median)",
            "uTP %.1f ms, TCP %.1f ms" % (utp_alone["median"], tcp_alone["median"]))

    # Phase 3: a CUBIC flow starts beside uTP.
    src, tcp_start = tcp_flow(TCP_BESIDE_S)
    end = tcp_end(src)
    # Phase 4: the TCP flow has ended.
    time.sleep(RECOVERY_S)
    stop_at = time.monotonic()
    utp_pts = series(leecher, leecher_point)
    tcp_pts = series(sink, sink_point)
    beside = windows(utp_pts, tcp_start, end)
    print("phase 3, CUBIC TCP beside uTP (%.1f s): uTP's share of the link per report:" %
          (end - tcp_start))
    for t, share in beside:
        print("  +%5.2f s  uTP %5.1f%%  TCP %s" % (t - tcp_start, 100 * share,
                                                    mbit(rate_bps(tcp_pts, t - 1.0, t))))
    low = [t for t, share in beside if share < SHARE_LOW]
    drop_s = (low[0] - tcp_start) if low else float("inf")
    half = tcp_start + (end - tcp_start) / 2
    utp_second_half = rate_bps(utp_pts, half, end)
    tcp_beside = rate_bps(tcp_pts, tcp_start, end)
    beside_delay = delay_stats(prober, base, tcp_start, end)
    print("phase 3 summary: uTP below %d%% of the link %.1f s after TCP started; uTP %s "
          "(%.1f%%) over the second half; TCP %s over the phase; queuing delay median %.1f ms, "
          "p90 %.1f ms" % (100 * SHARE_LOW, drop_s, mbit(utp_second_half),
                          100 * utp_second_half / RATE_BPS, mbit(tcp_beside),
                          beside_delay["median"], beside_delay["p90"]), flush=True)
    c.check(drop_s <= SHARE_DROP_WITHIN_S, "uTP yields to TCP: its share falls below %d%% "
            "within %.0f s" % (100 * SHARE_LOW, SHARE_DROP_WITHIN_S), "after %.1f s" % drop_s)
    c.check(utp_second_half < 0.3 * RATE_BPS, "uTP stays yielded while TCP runs (< 30% of the "
            "link over the phase's second half)", mbit(utp_second_half))

    after = windows(utp_pts, end, stop_at)
    print("phase 4, after the TCP flow (%.1f s): uTP's share of the link per report:"
          % (stop_at - end))
    for t, share in after:
        print("  +%5.2f s  uTP %5.1f%%" % (t - end, 100 * share))
    high = [t for t, share in after if share >= SHARE_RECOVERED]
    recover_s = (high[0] - end) if high else float("inf")
    rec_rate = rate_bps(utp_pts, end + RECOVER_WITHIN_S, stop_at)
    rec_delay = delay_stats(prober, base, end + RECOVER_WITHIN_S, stop_at)
    print("phase 4 summary: uTP back above %d%% of the link %.1f s after TCP ended; %s (%.1f%%) "
          "from %.0f s on; queuing delay median %.1f ms, p90 %.1f ms"
          % (100 * SHARE_RECOVERED, recover_s, mbit(rec_rate), 100 * rec_rate / RATE_BPS,
             RECOVER_WITHIN_S, rec_delay["median"], rec_delay["p90"]), flush=True)
    c.check(recover_s <= RECOVER_WITHIN_S, "uTP recovers above %d%% of the link within %.0f s "
            "of the TCP flow's end" % (100 * SHARE_RECOVERED, RECOVER_WITHIN_S),
            "after %.1f s" % recover_s)
    c.check(leecher.proc.poll() is None, "the leecher is still downloading at the end "
            "(the file outlasts the phases)", "; ".join(leecher.err[-3:]))
    return c.summary("test_ledbat_netns")


if __name__ == "__main__":
    sys.exit(main())
