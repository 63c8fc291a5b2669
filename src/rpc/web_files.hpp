// Serving the Transmission web client's files: mapping a request path below
// /transmission/web/ to a file below the web root without ever leaving it, and the
// Content-Type of each file. Sans-IO; the daemon reads the file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace starling::rpc {

// `web_path` is what follows /transmission/web/ (query removed), still percent-encoded. Returns
// the file's path relative to the web root ("index.html" for ""), or nullopt for anything that
// could escape the root or name something odd: "..", ".", empty components in the middle,
// backslashes, NUL, a bad percent escape.
std::optional<std::filesystem::path> web_file_path(std::string_view web_path);

// "text/html; charset=utf-8", "application/javascript", ... by extension.
std::string_view web_content_type(const std::filesystem::path& file);

}  // namespace starling::rpc
