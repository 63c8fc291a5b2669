#!/usr/bin/env bash
# Installs every Debian package that building, testing and benchmarking starling needs,
# but only when something is missing (so a warm machine pays nothing).
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build g++ clang libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libssl-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # reference peers and tools used by the interop tests and benchmarks
  python3 python3-libtorrent mktorrent aria2 time wrk opentracker
  # a real HTTP server for the web seed tests (tests/integration/test_web_seed_nginx.py)
  nginx-light
  # plots of the flash-crowd benchmark (bench/flash_crowd.py)
  python3-matplotlib
  # `starling daemon` against real Transmission clients: transmission-remote, the web client's
  # files (/usr/share/transmission/web) and a browser to drive it (tests/integration/test_daemon*)
  transmission-cli transmission-common chromium
  # the deploy tests and benchmark: namespaces, veth, tbf (ip, tc) and the client-server fetches
  iproute2 curl
  # the tracker's shared peer store (`starling tracker --store redis://`): the client library,
  # pkg-config to find it, and the server for the store tests and the replica fault test
  libhiredis-dev pkg-config redis-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# playwright-core (npm) drives chromium in tests/integration/test_daemon_web.js; it lives in
# PLAYWRIGHT_DIR, never in the repository, and never downloads a browser of its own.
install_playwright() {
  local dir=${PLAYWRIGHT_DIR:-/opt/starling-playwright}
  if [ -d "$dir/node_modules/playwright-core" ]; then return 0; fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm missing; installing nodejs and npm" >&2
    $sudo apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  $sudo mkdir -p "$dir"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $sudo npm install --silent --no-audit --no-fund \
    --prefix "$dir" playwright-core@1.65.1
}

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi

if [ ${#missing[@]} -eq 0 ]; then
  install_playwright
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "deps: missing packages (${missing[*]}) and not root; install them and retry" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_playwright
