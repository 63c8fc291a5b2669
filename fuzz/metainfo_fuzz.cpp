// parse_torrent must never crash, and whatever it accepts must be internally consistent: the
// piece count matches the sizes and the hashes, every path component is safe and unique, file
// offsets tile the byte stream, and the first and last pieces map onto exactly piece_size bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "bencode/decoder.hpp"
#include "core/digest.hpp"
#include "metainfo/torrent_info.hpp"

namespace {

using starling::FileIndex;
using starling::PieceIndex;
using starling::TorrentInfo;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "metainfo_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

// The spans of `piece` cover exactly its bytes, in order, inside non-empty files.
void check_piece(const starling::FileLayout& layout, PieceIndex piece) {
  const std::int64_t size = layout.piece_size(piece);
  check(size > 0 && size <= layout.piece_length(), "piece size out of range");
  std::int64_t sum = 0;
  std::int64_t position = std::int64_t{piece.value()} * layout.piece_length();
  for (const auto& span : layout.piece_spans(piece)) {
    check(span.file.value() >= 0 &&
              static_cast<std::size_t>(span.file.value()) < layout.files().size(),
          "span file index out of range");
    const auto& file = layout.file(span.file);
    check(span.length > 0, "empty span");
    check(span.file_offset >= 0 && span.file_offset + span.length <= file.size,
          "span outside its file");
    check(file.offset + span.file_offset == position, "spans not contiguous");
    position += span.length;
    sum += span.length;
  }
  check(sum == size, "spans do not add up to the piece size");
}

void check_torrent(std::string_view input, const TorrentInfo& t) {
  const auto& layout = t.layout;
  check(t.piece_length() > 0, "piece length <= 0");
  check(t.total_size() > 0, "total size <= 0");
  check(t.num_pieces() > 0, "no pieces");
  check(t.num_pieces() == (t.total_size() + t.piece_length() - 1) / t.piece_length(),
        "piece count does not match total size");
  check(t.piece_hashes.size() == static_cast<std::size_t>(t.num_pieces()),
        "piece hash count does not match piece count");

  // The info-hash is the SHA-1 of bytes that appear verbatim in the input.
  check(!t.info_bytes.empty() && input.find(t.info_bytes) != std::string_view::npos,
        "info bytes not found in the input");
  check(t.info_hash == starling::sha1(t.info_bytes), "info hash is not sha1(info bytes)");
  auto info = starling::bencode::decode(t.info_bytes);
  check(info.has_value() && info->root().is_dict(), "info bytes do not decode to a dict");
  auto pieces = info->root().find_string("pieces");
  check(pieces.has_value(), "info without a 'pieces' string");
  check(pieces->size() == static_cast<std::size_t>(t.num_pieces()) * 20,
        "'pieces' length is not num_pieces * 20");
  for (std::size_t i = 0; i < t.piece_hashes.size(); ++i) {
    check(t.piece_hashes[i].view() == pieces->substr(i * 20, 20), "piece hash differs");
  }

  check(starling::check_path_component(t.name).has_value(), "unsafe name");
  check(!layout.files().empty(), "no files");
  check(t.multi_file || layout.files().size() == 1, "single-file torrent with several files");
  std::set<std::string> paths;
  std::int64_t sum = 0;
  for (const auto& f : layout.files()) {
    check(!f.path.empty() && f.path.front() == t.name, "path does not start with the name");
    check(t.multi_file ? f.path.size() >= 2 : f.path.size() == 1, "path length");
    for (const auto& component : f.path) {
      check(starling::check_path_component(component).has_value(), "unsafe path component");
    }
    check(paths.insert(f.path_string()).second, "duplicate path");
    check(f.size >= 0, "negative file size");
    check(f.offset == sum, "file offsets do not tile the stream");
    sum += f.size;
  }
  check(sum == t.total_size(), "file sizes do not add up to the total size");

  const std::int32_t last = t.num_pieces() - 1;
  if (t.num_pieces() <= 256) {
    for (std::int32_t p = 0; p <= last; ++p) check_piece(layout, PieceIndex(p));
  } else {
    check_piece(layout, PieceIndex(0));
    check_piece(layout, PieceIndex(last));
  }
  check(
      layout.piece_size(PieceIndex(last)) == t.total_size() - std::int64_t{last} * t.piece_length(),
      "last piece size");
  for (std::size_t i = 0; i < layout.files().size() && i < 256; ++i) {
    const auto& f = layout.files()[i];
    const auto [first, final] = layout.file_pieces(FileIndex(static_cast<std::int32_t>(i)));
    if (f.size == 0) {
      check(first.value() == 0 && final.value() == -1, "empty file has pieces");
    } else {
      check(first.value() >= 0 && first <= final && final.value() <= last,
            "file pieces out of range");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = starling::parse_torrent(input);
  if (!t) {
    const auto& e = t.error();
    check(e.code.category() == starling::error_category(), "error outside the starling category");
    check(!e.has_offset() || e.offset <= size, "error offset beyond the input");
    return 0;
  }
  check_torrent(input, *t);
  // Parsing is deterministic.
  auto again = starling::parse_torrent(input);
  check(again.has_value() && again->info_hash == t->info_hash &&
            again->layout.files().size() == t->layout.files().size(),
        "second parse differs");
  return 0;
}
