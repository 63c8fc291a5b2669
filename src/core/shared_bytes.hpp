// Bytes that live inside a reference-counted buffer. Holding a SharedBytes keeps the whole buffer
// alive, so a block received from the network can travel to a disk thread without a copy.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace starling {

class SharedBytes {
 public:
  SharedBytes() = default;
  // `bytes` must point into the buffer that `owner` keeps alive.
  SharedBytes(std::shared_ptr<const char[]> owner, std::string_view bytes)
      : owner_(std::move(owner)), bytes_(bytes) {}

  // A buffer of its own holding a copy of `bytes` (tests, and data that is not in a buffer).
  static SharedBytes copy_of(std::string_view bytes) {
    auto buffer = std::make_shared_for_overwrite<char[]>(bytes.size());
    if (!bytes.empty()) std::memcpy(buffer.get(), bytes.data(), bytes.size());
    return {buffer, std::string_view(buffer.get(), bytes.size())};
  }

  std::string_view view() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }
  // Lets go of the buffer (it is freed when no one else holds it).
  void reset() {
    owner_.reset();
    bytes_ = {};
  }

 private:
  std::shared_ptr<const char[]> owner_;
  std::string_view bytes_;
};

}  // namespace starling
