// The web seed parsers must never crash on any input: the reply stream reader (fed whole and in
// small chunks, which must agree on the body bytes), Content-Range, URLs and redirects.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "webseed/reply_reader.hpp"
#include "webseed/web_seed_url.hpp"

namespace {

// Reads replies until the input ends or an error; returns the body bytes seen, or "!" on error.
std::string read_stream(std::string_view input, std::size_t chunk) {
  using starling::webseed::ReplyReader;
  ReplyReader reader(4096);
  std::string bodies;
  while (!input.empty()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    while (!piece.empty()) {
      auto step = reader.feed(piece);
      if (!step) return bodies + "!";
      if (step->consumed > piece.size()) std::abort();
      piece.remove_prefix(step->consumed);
      bodies += step->body;
      if (step->reply_done) {
        bodies += '|';
        reader.reset();
      } else if (step->consumed == 0) {
        break;
      }
    }
  }
  return bodies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling::webseed;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // However the bytes arrive, the replies and their bodies are the same.
  if (read_stream(input, input.size() + 1) != read_stream(input, 7)) std::abort();
  (void)parse_content_range(input);
  if (auto url = parse_http_url(input)) {
    auto again = parse_http_url(url->text());
    if (!again || again->text() != url->text()) std::abort();
    (void)resolve_location(*url, input.substr(input.size() / 2));
  }
  return 0;
}
