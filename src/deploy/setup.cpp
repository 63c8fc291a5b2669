#include "deploy/setup.hpp"

#include <fstream>
#include <sstream>

namespace starling::deploy {

Expected<std::string> read_secret_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::io_error, "cannot read the secret file");
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.size() < 16) {
    return Error(Errc::invalid_argument,
                 "the secret is " + std::to_string(secret.size()) +
                     " bytes; use at least 16 (e.g. `head -c 32 /dev/urandom | base64`)");
  }
  return secret;
}

void tune_for_datacenter(session::SessionSettings& settings, int upload_slots) {
  settings.enable_tcp = true;
  settings.enable_utp = false;
  settings.enable_dht = false;
  settings.choker.optimistic_slots = upload_slots >= 2 ? 1 : 0;
  settings.choker.regular_slots = upload_slots - settings.choker.optimistic_slots;
  settings.choker.rechoke_interval = std::chrono::seconds(5);
  // Sub-millisecond round trips: a tenth of a second of requests keeps a 100 Mbit/s-10 Gbit/s
  // link busy, and every request waits at most that long behind the others at a peer. The
  // engine's 3 s (made for the Internet) with end game let every host ask two or three peers
  // for the same blocks for most of the download: in the 12-host netns benchmark hosts received
  // ~95 MiB for a 64 MiB artifact. 250 ms left each block committed to one peer for longer than
  // it took to cross the fleet: 8.2-8.6 s against 7.8-8.2 s at 100 ms (12 hosts at 20 Mbit/s).
  // Without end game a block held by a stalled peer is picked again after request_timeout,
  // short here for the same reason.
  settings.pipeline.target_queue_time = std::chrono::milliseconds(100);
  settings.picker.end_game = false;
  settings.request_timeout = std::chrono::seconds(5);
}

}  // namespace starling::deploy
