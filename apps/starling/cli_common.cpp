#include "cli_common.hpp"

#include "progress_bar.hpp"
#include "storage/piece_hasher.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdio>

namespace starling::cli {

std::optional<std::int64_t> parse_size(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || value < 0) return std::nullopt;
  std::string suffix(end, text.data() + text.size());
  for (auto& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    shift = 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    shift = 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (value > (std::int64_t{1} << (62 - shift))) return std::nullopt;
  return value << shift;
}

int report(std::string_view command, std::string_view subject, std::string_view message, int code) {
  if (subject.empty()) {
    fmt::print(stderr, "starling {}: {}\n", command, message);
  } else {
    fmt::print(stderr, "starling {}: {}: {}\n", command, subject, message);
  }
  return code;
}

int report(std::string_view command, std::string_view subject, const Error& error, int code) {
  return report(command, subject, error.message(), code);
}

std::string human_size(std::int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.{}f} {}", value, value < 10 ? 2 : value < 100 ? 1 : 0, kUnits[unit]);
}

std::pair<FileLayout, std::filesystem::path> locate_data(const TorrentInfo& torrent,
                                                         const std::filesystem::path& data_path) {
  namespace fs = std::filesystem;
  fs::path data = data_path.lexically_normal();
  if (!data.has_filename()) data = data.parent_path();
  std::error_code ec;
  const bool data_is_file = fs::is_regular_file(data, ec);
  const bool data_is_dir = fs::is_directory(data, ec);
  const bool holds_name = fs::exists(data / torrent.name, ec);
  if ((!torrent.multi_file && data_is_file) || (torrent.multi_file && data_is_dir && !holds_name)) {
    std::vector<FileEntry> files = torrent.layout.files();
    for (auto& f : files) f.path.front() = data.filename().string();
    return {FileLayout(std::move(files), torrent.layout.piece_length()), data.parent_path()};
  }
  return {torrent.layout, data};
}

DataCheck check_data(const TorrentInfo& torrent, const FileLayout& layout,
                     const std::filesystem::path& directory, const std::string& label,
                     bool show_progress, int threads) {
  ProgressBar bar(label, show_progress && stderr_is_terminal());
  HashOptions options;
  options.threads = threads;
  options.progress = [&bar](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  HashResult hashed = hash_pieces(layout, directory, options);
  bar.finish();
  DataCheck check{Bitfield(hashed.pieces.size()), std::move(hashed.read_errors)};
  for (std::size_t i = 0; i < hashed.pieces.size(); ++i) {
    if (hashed.pieces[i] == torrent.piece_hashes[i]) check.good.set(i);
  }
  return check;
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace starling::cli
