// The Transmission RPC request parser and method layer must never crash or throw on any body,
// and always answer with a JSON object carrying a "result" string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rpc/dispatcher.hpp"
#include "rpc/transport.hpp"

namespace {

using namespace starling;
using namespace starling::rpc;

// Two torrents and accepting actions: enough for every method to reach its backend call.
class FuzzBackend final : public rpc::Backend {
 public:
  std::vector<TorrentView> torrents() const override {
    TorrentView a;
    a.id = 1;
    a.hash = std::string(40, 'a');
    a.name = "a";
    a.files = {FileView{"a/x", 10, 5, true, 0}};
    a.trackers = {TrackerView{}};
    a.peers = {PeerView{}};
    TorrentView b = a;
    b.id = 2;
    b.hash = std::string(40, 'b');
    return {a, b};
  }
  std::vector<std::pair<int, std::int64_t>> removed() const override { return {{3, 0}}; }
  SessionView session() const override { return {}; }
  Status set_session(const SessionView&) override { return ok(); }
  SessionStats stats() const override { return {}; }
  Expected<AddResult> add(const AddRequest& r) override {
    return AddResult{false, 3, r.filename, std::string(40, 'c')};
  }
  Status start(int, bool) override { return ok(); }
  Status stop(int) override { return ok(); }
  Status remove(int, bool) override { return ok(); }
  Status verify(int) override { return ok(); }
  Status reannounce(int) override { return ok(); }
  Status set_torrent(int, const TorrentChanges&) override { return ok(); }
  Status set_location(int, const std::string&, bool) override { return ok(); }
  Expected<std::int64_t> free_space(const std::string&) const override { return std::int64_t{1}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzBackend backend;
  Dispatcher dispatcher(backend);
  const std::string reply = dispatcher.handle(input, 1000);
  auto parsed = Json::parse(reply, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed["result"].is_string()) std::abort();
  // The form that may answer later (torrent-add): it must answer exactly once, the same way.
  int replies = 0;
  dispatcher.handle(input, 1000, [&](const std::string& body) {
    ++replies;
    if (Json::parse(body, nullptr, false).is_discarded()) std::abort();
  });
  if (replies != 1) std::abort();
  // The same bytes as a request target and a Host header.
  TransportConfig config{.session_id = "x", .credentials = std::make_pair("u", "p")};
  const std::map<std::string, std::string> headers{{"host", std::string(input)},
                                                   {"authorization", std::string(input)}};
  (void)check_transport(config, "GET", input, headers);
  config.credentials.reset();
  (void)check_transport(config, "POST", input, headers);
  return 0;
}
