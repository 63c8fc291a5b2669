// Resume files are read back from disk, where they may be truncated or damaged: parsing must
// fail cleanly, and whatever parses must fit the torrent it was checked against.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/resume_data.hpp"

namespace {

starling::FileEntry entry(std::vector<std::string> path, std::int64_t size) {
  starling::FileEntry f;
  f.path = std::move(path);
  f.size = size;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling;
  static const FileLayout layout(
      {entry({"t", "a"}, 10), entry({"t", "b"}, 14), entry({"t", "c"}, 8)}, 8);
  static const Sha1Digest info_hash = sha1("torrent");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto resume = parse_resume(input, info_hash, layout);
  if (!resume) return 0;
  if (resume->have.size() != 4 || resume->files.size() != 3) std::abort();
  // A parsed resume file re-encodes to something that parses to the same data.
  auto again = parse_resume(encode_resume(*resume), info_hash, layout);
  if (!again || again->have != resume->have || again->files != resume->files) std::abort();
  (void)trusted_pieces(*resume, layout, resume->files);
  return 0;
}
