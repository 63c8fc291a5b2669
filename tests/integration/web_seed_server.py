#!/usr/bin/env python3
"""A small HTTP/1.1 file server for web seed tests and benchmarks: Range requests, persistent
connections with pipelining, and one token bucket per server (every connection to it shares the
server's rate, unlike nginx's per-request limit_rate, which also bursts).

  * `rate` (bytes/s, 0 = unlimited): the server's total sending rate;
  * `latency` (seconds): a reply starts no earlier than this after its request arrived, as if the
    server were that far away (requests already queued behind others are not delayed again,
    which is what makes pipelining pay);
  * `mode`: "ok"; "corrupt" (every reply has bytes flipped); "missing" (404 for everything);
    "stall" (reads requests, never answers); "redirect" (302 to `redirect_to` + the same path);
  * `requests_per_connection` (0 = no limit): the last reply says "Connection: close" and the
    connection closes, as nginx does after `keepalive_requests`.

Used in-process (`WebSeedServer(...).start()`) by the tests and bench/webseed_bench.py, or run as
a script: `web_seed_server.py ROOT --rate 2m --port 0` prints the port and serves until killed.
"""

import argparse
import os
import queue
import socket
import threading
import time
import urllib.parse


class TokenBucket:
    """`rate` bytes per second with a small burst, shared by every connection of a server."""

    def __init__(self, rate, burst=32 * 1024):
        self.rate = rate
        self.burst = burst
        self.tokens = 0.0
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n):
        if self.rate <= 0:
            return
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= n or self.tokens >= self.burst:
                    self.tokens -= n  # may go into debt for n > burst: paid back by waiting
                    return
                wait = (min(n, self.burst) - self.tokens) / self.rate
            time.sleep(wait)


class WebSeedServer:
    def __init__(self, root, rate=0, latency=0.0, mode="ok", redirect_to=None, host="127.0.0.1",
                 port=0, requests_per_connection=0):
        self.requests_per_connection = requests_per_connection
        self.root = os.path.abspath(root)
        self.bucket = TokenBucket(rate)
        self.latency = latency
        self.mode = mode
        self.redirect_to = redirect_to
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = "http://%s:%d/" % (host, self.port)
        self.lock = threading.Lock()
        self.requests = 0       # range requests answered (any status)
        self.bytes_sent = 0     # body bytes
        self.connections = 0
        self.stopped = False
        self.open_sockets = set()

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for s in list(self.open_sockets):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self.open_sockets.add(conn)
            requests = queue.Queue()
            threading.Thread(target=self._read_requests, args=(conn, requests), daemon=True).start()
            threading.Thread(target=self._serve, args=(conn, requests), daemon=True).start()

    def _read_requests(self, conn, requests):
        """Parses request headers as they arrive and queues them with their arrival time."""
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        requests.put(None)
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                requests.put((time.monotonic(), method, target, headers))
        except (OSError, ValueError):
            requests.put(None)

    def _send_reply(self, conn, status, reason, headers, body=b""):
        head = "HTTP/1.1 %d %s\r\n" % (status, reason)
        for key, value in headers:
            head += "%s: %s\r\n" % (key, value)
        conn.sendall(head.encode() + b"\r\n" + body)

    def _serve(self, conn, requests):
        answered = 0
        try:
            while True:
                item = requests.get()
                if item is None:
                    break
                arrived, method, target, headers = item
                if self.mode == "stall":
                    continue  # read everything, answer nothing
                delay = arrived + self.latency - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                with self.lock:
                    self.requests += 1
                answered += 1
                closing = answered == self.requests_per_connection
                if not self._answer(conn, method, target, headers, closing) or closing:
                    break
        except OSError:
            pass
        finally:
            with self.lock:
                self.open_sockets.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _answer(self, conn, method, target, headers, closing=False):
        """One reply (`closing`: it says "Connection: close"); False when the connection must
        close."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
        if self.mode == "redirect":
            self._send_reply(conn, 302, "Found",
                             [("Location", self.redirect_to.rstrip("/") + target),
                              ("Content-Length", "0")])
            return True
        full = os.path.abspath(os.path.join(self.root, path.lstrip("/")))
        if (self.mode == "missing" or not full.startswith(self.root + os.sep)
                or not os.path.isfile(full) or method not in ("GET", "HEAD")):
            body = b"not found\n"
            self._send_reply(conn, 404, "Not Found", [("Content-Length", str(len(body)))], body)
            return True
        size = os.path.getsize(full)
        first, last = 0, size - 1
        status, reason = 200, "OK"
        extra = []
        spec = headers.get("range", "")
        if spec.startswith("bytes="):
            a, _, b = spec[6:].partition("-")
            try:
                first = int(a)
                last = min(int(b), size - 1) if b else size - 1
            except ValueError:
                first, last = 0, -1
            if first > last or first >= size:
                self._send_reply(conn, 416, "Range Not Satisfiable",
                                 [("Content-Range", "bytes */%d" % size),
                                  ("Content-Length", "0")])
                return True
            status, reason = 206, "Partial Content"
            extra = [("Content-Range", "bytes %d-%d/%d" % (first, last, size))]
        length = last - first + 1
        self._send_reply(conn, status, reason,
                         extra + [("Content-Length", str(length)), ("Accept-Ranges", "bytes"),
                                  ("Content-Type", "application/octet-stream")] +
                         ([("Connection", "close")] if closing else []))
        if method == "HEAD":
            return True
        with open(full, "rb") as f:
            f.seek(first)
            left = length
            while left > 0:
                chunk = f.read(min(16384, left))
                if not chunk:
                    return False
                if self.mode == "corrupt":
                    chunk = bytes(b ^ 0x5A for b in chunk[:64]) + chunk[64:]
                self.bucket.take(len(chunk))
                conn.sendall(chunk)
                left -= len(chunk)
                with self.lock:
                    self.bytes_sent += len(chunk)
        return True


def parse_rate(text):
    text = text.strip().lower()
    scale = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "kmg" else text) * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rate", default="0")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds")
    ap.add_argument("--mode", default="ok", choices=["ok", "corrupt", "missing", "stall",
                                                     "redirect"])
    ap.add_argument("--redirect-to")
    args = ap.parse_args()
    server = WebSeedServer(args.root, parse_rate(args.rate), args.latency, args.mode,
                           args.redirect_to, port=args.port).start()
    print(server.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
