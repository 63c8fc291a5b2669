#include "rpc/request.hpp"

#include <cmath>
#include <limits>

#include "core/encoding.hpp"

namespace starling::rpc {
namespace {

Error bad(const std::string& what) {
  return Error(Errc::invalid_argument, what);
}

// nlohmann's parser is iterative, but deep documents still cost memory and recursion when
// destroyed or printed: refuse them before parsing.
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::optional<std::int64_t> as_integer(const Json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return value.get<std::int64_t>();
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<Request> parse_request(std::string_view body) {
  if (body.size() > kMaxRequestBytes) return bad("request body too large");
  if (!nesting_within(body, kMaxNesting)) return bad("request nested too deeply");
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("request is not JSON");
  if (!doc.is_object()) return bad("request is not a JSON object");
  Request request;
  if (auto tag = doc.find("tag"); tag != doc.end()) request.tag = as_integer(*tag);
  auto method = doc.find("method");
  if (method == doc.end()) return bad("missing 'method'");
  if (!method->is_string()) return bad("'method' is not a string");
  request.method = method->get<std::string>();
  if (auto args = doc.find("arguments"); args != doc.end()) {
    if (!args->is_object()) return bad("'arguments' is not an object");
    request.arguments = std::move(*args);
  }
  return request;
}

Expected<IdSelector> parse_ids(const Json& arguments) {
  IdSelector selector;
  auto it = arguments.find("ids");
  if (it == arguments.end()) {
    selector.all = true;
    return selector;
  }
  auto add_one = [&selector](const Json& value) -> Status {
    if (auto n = as_integer(value)) {
      if (*n < 0 || *n > std::numeric_limits<int>::max()) return bad("'ids': id out of range");
      selector.ids.push_back(static_cast<int>(*n));
      return ok();
    }
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (text.size() == 40 && hex_decode(text)) {
        std::string lower = text;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        selector.hashes.push_back(std::move(lower));
        return ok();
      }
      return bad("'ids': '" + text.substr(0, 64) + "' is neither an id nor an info-hash");
    }
    return bad("'ids': an element is neither an integer nor a string");
  };
  if (it->is_string() && it->get_ref<const std::string&>() == "recently-active") {
    selector.recently_active = true;
    return selector;
  }
  if (it->is_array()) {
    for (const auto& element : *it) {
      if (auto s = add_one(element); !s) return s.error();
    }
    return selector;
  }
  if (auto s = add_one(*it); !s) return s.error();
  return selector;
}

Expected<std::optional<std::int64_t>> get_int(const Json& arguments, const char* key) {
  auto it = arguments.find(key);
  if (it == arguments.end()) return std::optional<std::int64_t>{};
  if (auto n = as_integer(*it)) return std::optional<std::int64_t>{*n};
  return bad(std::string("'") + key + "' is not an integer");
}

Expected<std::optional<bool>> get_bool(const Json& arguments, const char* key) {
  auto it = arguments.find(key);
  if (it == arguments.end()) return std::optional<bool>{};
  if (it->is_boolean()) return std::optional<bool>{it->get<bool>()};
  if (auto n = as_integer(*it); n && (*n == 0 || *n == 1)) return std::optional<bool>{*n == 1};
  return bad(std::string("'") + key + "' is not a boolean");
}

Expected<std::optional<double>> get_double(const Json& arguments, const char* key) {
  auto it = arguments.find(key);
  if (it == arguments.end()) return std::optional<double>{};
  if (it->is_number()) {
    const double d = it->get<double>();
    if (std::isfinite(d)) return std::optional<double>{d};
  }
  return bad(std::string("'") + key + "' is not a number");
}

Expected<std::optional<std::string>> get_string(const Json& arguments, const char* key) {
  auto it = arguments.find(key);
  if (it == arguments.end()) return std::optional<std::string>{};
  if (it->is_string()) return std::optional<std::string>{it->get<std::string>()};
  return bad(std::string("'") + key + "' is not a string");
}

Expected<std::optional<std::vector<int>>> get_int_list(const Json& arguments, const char* key) {
  auto it = arguments.find(key);
  if (it == arguments.end()) return std::optional<std::vector<int>>{};
  if (!it->is_array()) return bad(std::string("'") + key + "' is not a list");
  std::vector<int> out;
  for (const auto& element : *it) {
    auto n = as_integer(element);
    if (!n || *n < 0 || *n > std::numeric_limits<int>::max()) {
      return bad(std::string("'") + key + "' holds something other than an index");
    }
    out.push_back(static_cast<int>(*n));
  }
  return std::optional<std::vector<int>>{std::move(out)};
}

}  // namespace starling::rpc
