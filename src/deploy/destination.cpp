#include "deploy/destination.hpp"

namespace starling::deploy {
namespace fs = std::filesystem;

bool path_within(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *o != *i) return false;
  }
  return true;
}

Expected<fs::path> resolve_destination(const fs::path& root, std::string_view relpath) {
  const std::string shown = "destination '" + std::string(relpath.substr(0, 200)) + "'";
  if (relpath.empty()) return Error(Errc::invalid_argument, shown + ": empty");
  if (relpath.front() == '/') {
    return Error(Errc::invalid_argument, shown + ": must be relative to the agent's --root");
  }
  if (relpath.size() > 1024) return Error(Errc::invalid_argument, shown + ": longer than 1024");
  std::size_t start = 0;
  while (start <= relpath.size()) {
    const std::size_t slash = std::min(relpath.find('/', start), relpath.size());
    const std::string_view part = relpath.substr(start, slash - start);
    // A trailing slash is harmless; anything else empty is a typo worth refusing.
    if (part.empty() && slash != relpath.size()) {
      return Error(Errc::invalid_argument, shown + ": empty path component");
    }
    if (part == "." || part == "..") {
      return Error(Errc::invalid_argument, shown + ": '.' and '..' are not allowed");
    }
    if (part.find('\0') != std::string_view::npos || part.find('\\') != std::string_view::npos) {
      return Error(Errc::invalid_argument, shown + ": NUL and backslash are not allowed");
    }
    start = slash + 1;
  }
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) return Error(ec, "agent root " + root.string());
  // weakly_canonical follows every symlink in the part that exists: a link pointing out of the
  // root is caught here, not when the first byte is written through it.
  const fs::path real = fs::weakly_canonical(real_root / fs::path(std::string(relpath)), ec);
  if (ec) return Error(ec, shown);
  if (!path_within(real_root, real) || real == real_root) {
    return Error(Errc::invalid_argument, shown + ": resolves to " + real.string() +
                                             ", outside the agent's --root " + real_root.string());
  }
  return real;
}

}  // namespace starling::deploy
