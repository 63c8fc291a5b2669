// SHA-1 and SHA-256 digests as distinct value types, computed through OpenSSL's EVP interface
// (which uses the CPU's SHA extensions where present).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace starling {

template <std::size_t N, class Tag>
struct Digest {
  static constexpr std::size_t size = N;
  std::array<std::uint8_t, N> bytes{};

  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  std::string hex() const;
  // Exactly 2*N hex digits, either case.
  static std::optional<Digest> from_hex(std::string_view text);
  // Exactly N raw bytes.
  static std::optional<Digest> from_bytes(std::string_view raw);

  // clang-tidy 14 misreads defaulted comparisons as a literal 0 pointer.
  friend auto operator<=>(const Digest&, const Digest&) = default;  // NOLINT(modernize-use-nullptr)
};

struct Sha1Tag {};
struct Sha256Tag {};
using Sha1Digest = Digest<20, Sha1Tag>;
using Sha256Digest = Digest<32, Sha256Tag>;

// Incremental hashing: update() any number of times, then finish() once.
template <class DigestT>
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(std::string_view data);
  void update(const void* data, std::size_t size);
  DigestT finish();  // the hasher is reset and may be reused

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using Sha1Hasher = Hasher<Sha1Digest>;
using Sha256Hasher = Hasher<Sha256Digest>;

Sha1Digest sha1(std::string_view data);
Sha256Digest sha256(std::string_view data);

}  // namespace starling
