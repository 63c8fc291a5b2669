#!/usr/bin/env python3
"""The Transmission web client served by `starling daemon`, in headless Chromium
(test_daemon_web.js, playwright-core): the list shows a torrent's name and progress, a torrent
is added through the upload dialog, paused and resumed from the toolbar; a screenshot is saved
as an artifact (test-artifacts/daemon_web.png below the working directory: build/tests under
ctest) and the page's text is checked.

Skips (exit 0, with a SKIP line) when chromium, node, playwright-core or the web client's files
are missing: scripts/deps.sh installs them.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import Checker, free_port, lt, starling_path, temp_dir, wait_for, write_random  # noqa: E402
from test_daemon import Daemon, lt_session  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WEB_ROOT = "/usr/share/transmission/web"
PLAYWRIGHT_DIR = os.environ.get("PLAYWRIGHT_DIR", "/opt/starling-playwright")


def main():
    starling = starling_path(__doc__)
    if not starling:
        return 1
    missing = [what for what, ok in (
        ("/usr/bin/chromium", os.access("/usr/bin/chromium", os.X_OK)),
        ("node", shutil.which("node") is not None),
        ("playwright-core in " + PLAYWRIGHT_DIR,
         os.path.isdir(os.path.join(PLAYWRIGHT_DIR, "node_modules", "playwright-core"))),
        (WEB_ROOT, os.path.exists(os.path.join(WEB_ROOT, "index.html"))),
        ("transmission-remote", shutil.which("transmission-remote") is not None)) if not ok]
    if missing:
        print("SKIP: test_daemon_web needs %s (run scripts/deps.sh)" % ", ".join(missing))
        return 0
    artifacts = os.path.join(os.getcwd(), "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    screenshot = os.path.join(artifacts, "daemon_web.png")
    c = Checker()
    with temp_dir("starling-daemon-web-") as work:
        seed_dir = os.path.join(work, "seed")
        paths = {}
        for name, size in (("alpha", 2 * 1024 * 1024 + 5), ("beta", 512 * 1024 + 7)):
            write_random(os.path.join(seed_dir, name + ".bin"), size)
            paths[name] = os.path.join(work, name + ".torrent")
            r = subprocess.run([starling, "create", os.path.join(seed_dir, name + ".bin"), "-o",
                                paths[name], "--piece-size", "64k", "-q"], capture_output=True,
                               timeout=30)
            c.equal(r.returncode, 0, "create %s" % name)
        seed_port = free_port()
        ses = lt_session(seed_port)
        for name in ("alpha", "beta"):
            ses.add_torrent({"ti": lt.torrent_info(paths[name]), "save_path": seed_dir})
        d = Daemon(starling, os.path.join(work, "config"), os.path.join(work, "downloads"),
                   seed_port, work)
        if not c.check(d.start(), "the daemon answers"):
            return c.summary("test_daemon_web")
        try:
            code, out = d.remote("-a", paths["alpha"])
            c.check(code == 0 and "success" in out, "-a alpha.torrent", out)
            r = subprocess.run(["node", os.path.join(HERE, "test_daemon_web.js")],
                               env=dict(os.environ, BASE_URL="http://127.0.0.1:%d" % d.rpc_port,
                                        UPLOAD_TORRENT=paths["beta"], SCREENSHOT=screenshot,
                                        PLAYWRIGHT_DIR=PLAYWRIGHT_DIR),
                               capture_output=True, text=True, timeout=80)
            print(r.stdout + r.stderr[-2000:], end="")
            c.equal(r.returncode, 0, "the browser checks (test_daemon_web.js)")
            c.check(os.path.exists(screenshot), "a screenshot is saved", screenshot)
            # What the page did reached the daemon: beta was added and runs again.
            c.check(wait_for(lambda: 2 in d.rows() and "Stopped" not in d.rows()[2][1], 5),
                    "transmission-remote sees the uploaded torrent, started", repr(d.rows()))
        finally:
            d.signal(15)
            if c.failures:
                print("daemon log tail:\n" + d.log_tail())
    return c.summary("test_daemon_web")


if __name__ == "__main__":
    sys.exit(main())
