#!/usr/bin/env bash
# Benchmark for uTP (issue 6), on top of bench/transfer_bench.sh (see it for the method):
#   1. 1 GiB, starling over uTP only against starling over TCP only;
#   2. LT_SIZE_MIB (default 128), libtorrent over uTP only against starling over uTP only —
#      libtorrent's uTP moves a few MB/s here, so 1 GiB would take minutes per run.
# Each part prints its table and rate ratios. Environment: RUNS (3), STARLING, BENCH_DIR,
# TIMEOUT (240), LT_SIZE_MIB.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUNS=${RUNS:-3} TIMEOUT=${TIMEOUT:-240}
echo "== 1 GiB: starling uTP vs starling TCP =="
PAIRS="starling-utp starling" SIZE_MIB=1024 bash bench/transfer_bench.sh
echo
echo "== ${LT_SIZE_MIB:-128} MiB: starling uTP vs libtorrent uTP =="
PAIRS="starling-utp libtorrent-utp" SIZE_MIB=${LT_SIZE_MIB:-128} bash bench/transfer_bench.sh
