#include "utp/error.hpp"

namespace starling::utp {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "utp"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::ok:
        return "success";
      case Errc::short_packet:
        return "uTP: packet shorter than its header";
      case Errc::bad_version:
        return "uTP: unsupported version";
      case Errc::bad_type:
        return "uTP: unknown packet type";
      case Errc::bad_extension:
        return "uTP: malformed extension";
      case Errc::connection_reset:
        return "uTP: connection reset by the peer";
      case Errc::timed_out:
        return "uTP: connection timed out";
      case Errc::aborted:
        return "uTP: connection aborted";
      case Errc::unreachable:
        return "uTP: peer unreachable";
      case Errc::bad_syn:
        return "uTP: not a SYN packet";
    }
    return "uTP: unknown error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

Error make_error(Errc e, std::string detail, std::size_t offset) {
  Error error(make_error_code(e), std::move(detail));
  error.offset = offset;
  return error;
}

}  // namespace starling::utp
