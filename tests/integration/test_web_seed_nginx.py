#!/usr/bin/env python3
"""BEP 19 web seeds served by nginx (Debian's nginx-light), a real HTTP server we did not write:

  * a single-file torrent, url-list naming the file, downloaded from nginx alone;
  * a multi-file torrent (pieces spanning files, a name with a space, an empty file), url-list
    naming the folder, downloaded from nginx alone;
  * the multi-file torrent again with a second web seed whose folder does not exist (nginx's
    404): it is dropped, the download completes from the first.
nginx runs in the foreground on 127.0.0.1 with a configuration of our own in a temp folder, and
is stopped at the end. scripts/deps.sh (run by `make test`) installs nginx-light.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (Checker, free_port, starling_path, stop_process,  # noqa: E402
                            temp_dir, wait_for, write_random)
from test_web_seed import create, download, port_open  # noqa: E402

DEADLINE = 90
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
{user}
events {{ worker_connections 64; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/tmp-body;
    proxy_temp_path {work}/tmp-proxy;
    fastcgi_temp_path {work}/tmp-fastcgi;
    uwsgi_temp_path {work}/tmp-uwsgi;
    scgi_temp_path {work}/tmp-scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def start_nginx(work, root):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    # As root, workers would switch to "nobody", which cannot read a private temp folder.
    user = "user root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(CONFIG.format(work=work, port=port, root=root, user=user))
    proc = subprocess.Popen(["timeout", str(DEADLINE + 30), NGINX, "-c", conf, "-p", work],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not wait_for(lambda: port_open(port), 10):
        stop_process(proc)
        raise RuntimeError("nginx did not start: %s" % open(os.path.join(work, "error.log")).read())
    return proc, "http://127.0.0.1:%d/" % port


def same_file(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def main():
    starling = starling_path(__doc__)
    if starling is None:
        return 1
    if not os.access(NGINX, os.X_OK):
        print("FAIL: nginx is not installed (scripts/deps.sh installs nginx-light)")
        return 1
    checker = Checker()
    check = checker.check
    with temp_dir("starling-nginx-") as work:
        root = os.path.join(work, "www")
        single = os.path.join(root, "single")
        album = os.path.join(root, "multi", "album")
        write_random(os.path.join(single, "payload.bin"), 5 * 1024 * 1024 + 777)
        sizes = {"a.bin": 300001, "sub dir/b b.bin": 45678, "sub dir/empty": 0, "c.bin": 2000000}
        for name, size in sizes.items():
            write_random(os.path.join(album, name), size)
        nginx, url = start_nginx(work, root)
        try:
            torrent = os.path.join(work, "single.torrent")
            create(starling, os.path.join(single, "payload.bin"), torrent, "256k",
                   [url + "single/payload.bin"])
            out = os.path.join(work, "out-single")
            r, done = download(starling, torrent, out)
            check(r.returncode == 0 and done is not None,
                  "single file from nginx completes (exit %d) %s" % (r.returncode, r.stderr[-400:]))
            check(same_file(os.path.join(single, "payload.bin"), os.path.join(out, "payload.bin")),
                  "single file from nginx: byte-identical")

            torrent = os.path.join(work, "multi.torrent")
            create(starling, album, torrent, "64k", [url + "multi/"])
            for label, extra in (("alone", []), ("beside a 404 web seed",
                                                 ["--web-seed", url + "nowhere/"])):
                out = os.path.join(work, "out-multi-" + str(len(extra)))
                r, done = download(starling, torrent, out, *extra)
                check(r.returncode == 0 and done is not None,
                      "multi-file from nginx %s completes (exit %d) %s" %
                      (label, r.returncode, r.stderr[-400:]))
                check(all(same_file(os.path.join(album, n), os.path.join(out, "album", n))
                          for n in sizes),
                      "multi-file from nginx %s: byte-identical, empty file there" % label)
                if extra:
                    states = {s["url"]: s.get("state", "") for s in (done or {}).get("web_seeds", [])}
                    missing = states.get(url + "nowhere/", "")
                    check(missing.startswith("dropped") and "404" in missing,
                          "the web seed nginx answers 404 for is dropped (%s)" % states)
            served = open(os.path.join(work, "access.log")).read().count(" 206 ")
            check(served > 10, "nginx served byte ranges (%d replies 206)" % served)
        finally:
            stop_process(nginx)
    return checker.summary("test_web_seed_nginx")


if __name__ == "__main__":
    sys.exit(main())
