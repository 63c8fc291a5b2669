// Every tunable of the engine, with its default and the reason for it.
#pragma once

#include <chrono>
#include <cstdint>

#include "dht/dht_node.hpp"
#include "policy/choker.hpp"
#include "policy/piece_picker.hpp"
#include "policy/rate_limiter.hpp"
#include "policy/request_pipeline.hpp"
#include "policy/super_seed.hpp"
#include "session/disk_io.hpp"
#include "session/utp_transport.hpp"
#include "tracker/tracker_client.hpp"
#include "webseed/server_policy.hpp"

namespace starling::session {

struct SessionSettings {
  // Transports (--tcp-only, --utp-only). With both, an outgoing connection tries uTP first and
  // falls back to TCP when uTP does not connect, as libtorrent does; we accept both.
  bool enable_tcp = true;
  bool enable_utp = true;
  UtpSettings utp;
  // A DHT node (BEP 5) on the UDP socket; Session::start_dht joins it to the network.
  bool enable_dht = false;
  dht::DhtSettings dht;
  // Payload bytes per second over all torrents and peers; 0 = no limit (--max-down, --max-up).
  std::int64_t max_download_rate = 0;
  std::int64_t max_upload_rate = 0;
  // Their token buckets: a 1 s burst, so a process that the scheduler keeps waiting (a loaded
  // machine) catches up instead of losing the time; starting near empty, so a transfer's first
  // seconds are not above the limit.
  policy::BucketSettings rate_limit_bucket{.burst_time = std::chrono::milliseconds(1000),
                                           .start_full = false};
  // SO_RCVBUF of peer TCP sockets (0, above net.core.rmem_max, or with max_download_rate set:
  // the kernel's autotuning). A fixed 4 MiB (8 MiB with Linux's doubling) cut the leecher's CPU
  // per GiB over loopback by ~20% on a busy 2-core host (~4% on an idle one) against autotuning:
  // far fewer context switches on both sides (docs/BENCHMARKS.md). The memory is the kernel's,
  // used only while data waits to be read.
  int tcp_receive_buffer = 4 << 20;
  // Disk threads (reads, writes, piece hashes) and the memory that stages pieces for direct I/O.
  DiskIoSettings disk;
  // `disk` with its thread count settled: 0 there means 2, or 4 when files get direct I/O.
  DiskIoSettings disk_io() const {
    DiskIoSettings resolved = disk;
    if (resolved.threads <= 0) resolved.threads = storage.direct_io ? 4 : 2;
    return resolved;
  }
  // How torrents' files are opened and written (descriptor cache, preallocation, direct I/O).
  FileStoreSettings storage;
  // Housekeeping period: rates, timeouts, unchoking, progress reports.
  std::chrono::milliseconds tick{500};
  // Stop reading block requests from disk for a peer whose send buffer holds this much.
  std::size_t send_high_water = 2 << 20;
  // Disk reads in flight per peer for its requests.
  int max_disk_reads_per_peer = 16;
  // Ask for no new blocks while this many received bytes wait for the disk: memory stays bounded
  // by this plus what is already requested.
  std::int64_t disk_write_high_water = 16 << 20;
  // Ask another starling for consecutive blocks of a piece in one request (up to 128 KiB),
  // answered by one PIECE message: fewer, larger messages (see PeerConnection::request_more).
  bool request_block_runs = true;
  // A request unanswered this long is given up and picked again from another peer.
  std::chrono::seconds request_timeout{30};
  // Send a keep-alive after this long without sending anything; drop a peer silent this long.
  std::chrono::seconds keepalive_interval{90};
  std::chrono::seconds inactivity_timeout{240};
  std::chrono::seconds connect_timeout{10};
  // Retry an outgoing connection that failed or closed, after this delay, while we need data.
  std::chrono::seconds reconnect_delay{5};
  // Disconnect and refuse a peer after it contributed to this many pieces that failed the hash.
  int max_bad_pieces = 2;
  // Save resume data this often while downloading.
  std::chrono::seconds resume_interval{30};
  policy::PickerSettings picker;
  policy::ChokerSettings choker;
  policy::PipelineSettings pipeline;
  policy::SuperSeedSettings super_seed;  // for torrents added with TorrentOptions::super_seed
  tracker::TrackerClientSettings trackers;
  webseed::WebSeedSettings web_seed;
};

}  // namespace starling::session
