// Transmission RPC requests (JSON): {"method", "arguments", "tag"}, and the typed accessors
// the methods use to read their arguments. Never throws: every malformed input becomes an
// Error that names the key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::rpc {

using Json = nlohmann::json;

struct Request {
  std::string method;
  Json arguments = Json::object();
  std::optional<std::int64_t> tag;  // echoed in the reply; Transmission's tags are integers
};

// Limits on a request body before it is parsed.
inline constexpr std::size_t kMaxRequestBytes = 64U << 20;  // a big .torrent in base64
inline constexpr int kMaxNesting = 32;

// Parses a request body. Errors name the problem ("request is not JSON", "missing 'method'").
// A tag of another type is ignored rather than refused, as Transmission does.
Expected<Request> parse_request(std::string_view body);

// The torrents a request is about: the `ids` argument.
struct IdSelector {
  bool all = false;              // `ids` absent
  bool recently_active = false;  // "recently-active"
  std::vector<int> ids;
  std::vector<std::string> hashes;  // lowercase hex
};
Expected<IdSelector> parse_ids(const Json& arguments);

// Argument readers: nullopt when the key is absent, an Error when it has the wrong type.
// Integers accept integral JSON numbers; booleans accept true/false and 0/1; doubles accept any
// number.
Expected<std::optional<std::int64_t>> get_int(const Json& arguments, const char* key);
Expected<std::optional<bool>> get_bool(const Json& arguments, const char* key);
Expected<std::optional<double>> get_double(const Json& arguments, const char* key);
Expected<std::optional<std::string>> get_string(const Json& arguments, const char* key);
// A list of integers (file indices); an empty list is a valid value.
Expected<std::optional<std::vector<int>>> get_int_list(const Json& arguments, const char* key);

}  // namespace starling::rpc
