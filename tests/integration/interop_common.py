"""Shared pieces of the interop test scripts (test_*_interop.py): not a test itself.

  * `lt`: libtorrent, imported once; a missing libtorrent fails the test (exit 1), since the
    reference tools are part of the test machine (see docs/TESTING.md);
  * a strict little bencode decoder/encoder, enough to look at a raw .torrent file;
  * `Checker`: counts checks, prints each failed one, and prints the summary line;
  * `run`: a command with its output captured and a timeout;
  * `starling_path`, `temp_dir`, `write_random`: the command line, a scratch folder, test data;
  * for transfer tests: `free_port`, `json_events`/`last_event`, `stop_process`, `write_half`.

Each script puts this folder on sys.path and imports what it needs from here.
"""

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

try:
    import libtorrent as lt  # noqa: F401 - re-exported for the scripts
except ImportError:  # pragma: no cover - depends on the machine
    print("FAIL: cannot import libtorrent; run with /usr/bin/python3 and install "
          "python3-libtorrent", file=sys.stderr)
    sys.exit(1)

TIMEOUT = 30  # seconds, for each external command


# ---------------------------------------------------------------------------------------------
# A strict little bencode decoder/encoder.

class BencodeError(ValueError):
    pass


def bdecode_value(data, pos):
    """Decodes the value starting at data[pos]; returns (value, position after it)."""
    if pos >= len(data):
        raise BencodeError("truncated at %d" % pos)
    c = data[pos:pos + 1]
    if c == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1:end]), end + 1
    if c == b"l":
        pos += 1
        out = []
        while data[pos:pos + 1] != b"e":
            value, pos = bdecode_value(data, pos)
            out.append(value)
        return out, pos + 1
    if c == b"d":
        pos += 1
        out = {}
        while data[pos:pos + 1] != b"e":
            key, pos = bdecode_value(data, pos)
            value, pos = bdecode_value(data, pos)
            out[key] = value
        return out, pos + 1
    if c.isdigit():
        colon = data.index(b":", pos)
        length = int(data[pos:colon])
        start = colon + 1
        if start + length > len(data):
            raise BencodeError("string beyond the end at %d" % pos)
        return data[start:start + length], start + length
    raise BencodeError("unexpected byte %r at %d" % (c, pos))


def bdecode_torrent(data):
    """Returns (root dict, raw bytes of the 'info' value exactly as in the file)."""
    if data[:1] != b"d":
        raise BencodeError("not a dictionary")
    pos = 1
    root = {}
    info_raw = None
    while data[pos:pos + 1] != b"e":
        key, pos = bdecode_value(data, pos)
        start = pos
        value, pos = bdecode_value(data, pos)
        root[key] = value
        if key == b"info":
            info_raw = data[start:pos]
    if pos + 1 != len(data):
        raise BencodeError("trailing data")
    return root, info_raw


def bencode(value):
    """Canonical bencode of ints, str/bytes, lists and dicts (keys sorted as bytes)."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


# ---------------------------------------------------------------------------------------------
# Checks, commands and scratch files.

class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def check(self, condition, what, detail=""):
        self.checks += 1
        if not condition:
            self.failures += 1
            print("FAIL: %s%s" % (what, ("\n      " + detail) if detail else ""), flush=True)
        return condition

    def equal(self, got, want, what):
        return self.check(got == want, what, "got:  %r\n      want: %r" % (got, want))

    def summary(self, name):
        """Prints the result line for the script `name`; returns its exit code (0 or 1)."""
        if self.failures:
            print("%s: %d of %d checks FAILED" % (name, self.failures, self.checks))
            return 1
        print("%s: all %d checks passed" % (name, self.checks))
        return 0


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, **kwargs)


def starling_path(doc):
    """Parses --starling from the command line (`doc`: the script's docstring, for --help).

    Returns the binary's absolute path, or None after a FAIL line when it is not executable.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--starling", required=True, help="path to the starling binary")
    args = parser.parse_args()
    starling = os.path.abspath(args.starling)
    if not os.access(starling, os.X_OK):
        print("FAIL: %s is not an executable" % starling, file=sys.stderr)
        return None
    return starling


@contextlib.contextmanager
def temp_dir(prefix):
    """A fresh folder below the system temp folder, removed with everything in it afterwards."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_random(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(os.urandom(size))


# ---------------------------------------------------------------------------------------------
# Transfers: ports, JSON event streams, processes, partial data.

def free_port(host="127.0.0.1"):
    """A port that was free a moment ago on `host` for both TCP and UDP: starling listens on
    both (uTP takes the TCP port's number), and so do other BitTorrent clients."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
            with socket.socket(family, socket.SOCK_DGRAM) as u:
                try:
                    u.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both TCP and UDP on %s" % host)


def json_events(stdout):
    """The JSON objects among the lines of a `--json` run's output."""
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


def last_event(stdout, name):
    found = [e for e in json_events(stdout) if e.get("event") == name]
    return found[-1] if found else None


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it does not exit in time; reaps it either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def write_half(source, dest, piece, keep_even=True):
    """A copy of `source` whose odd (or even) pieces are zeroed: the other half must be fetched."""
    with open(source, "rb") as f:
        data = bytearray(f.read())
    for start in range(0, len(data), piece):
        if (start // piece) % 2 == (1 if keep_even else 0):
            end = min(start + piece, len(data))
            data[start:end] = bytes(end - start)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(data)


def wait_for(predicate, seconds):
    """Polls `predicate` every 0.1 s for up to `seconds`; True as soon as it holds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def read_exact(conn, n):
    """Exactly `n` bytes from socket `conn` (a scripted peer's reads); ConnectionError at EOF."""
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
