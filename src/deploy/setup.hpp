// What `agent` and `deploy` share at start-up: reading the fleet's secret, and the engine
// settings for a datacenter swarm (TCP only, no DHT, more upload slots).
#pragma once

#include <filesystem>
#include <string>

#include "core/expected.hpp"
#include "session/settings.hpp"

namespace starling::deploy {

// The file's bytes without trailing whitespace; at least 16 bytes, or an error saying so.
Expected<std::string> read_secret_file(const std::filesystem::path& file);

// A private swarm of hosts that all want the same file and all stay: no DHT, TCP only (uTP's
// LEDBAT yields to other traffic, which a deploy should not), `upload_slots` unchoked at once
// (one of them optimistic), a rechoke every few seconds so new pieces spread quickly, short
// request queues and no end game (no duplicate blocks; see setup.cpp).
void tune_for_datacenter(session::SessionSettings& settings, int upload_slots);

}  // namespace starling::deploy
