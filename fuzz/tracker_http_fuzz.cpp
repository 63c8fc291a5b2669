// The HTTP tracker parsers must never crash on any input: the announce and scrape query parsers
// (whatever announce they accept must survive build + parse unchanged), the request-head
// parser, and the client's reply decoders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tracker/announce_reply.hpp"
#include "tracker/announce_request.hpp"
#include "tracker/http_request.hpp"
#include "tracker/scrape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling::tracker;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto request = parse_announce_query(input)) {
    auto again = parse_announce_query(build_announce_query(*request));
    if (!again || !(*again == *request)) std::abort();
  }
  if (auto scrape = parse_scrape_query(input)) {
    auto again = parse_scrape_query(build_scrape_query(*scrape));
    if (!again || again->info_hashes != scrape->info_hashes) std::abort();
  }
  (void)parse_http_request_head(input, 4096);
  (void)decode_announce_reply(input);
  (void)decode_scrape_reply(input);
  return 0;
}
