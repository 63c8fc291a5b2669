#include "core/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/encoding.hpp"

namespace starling {

template <std::size_t N, class Tag>
std::string Digest<N, Tag>::hex() const {
  return hex_encode(view());
}

template <std::size_t N, class Tag>
std::optional<Digest<N, Tag>> Digest<N, Tag>::from_hex(std::string_view text) {
  if (text.size() != 2 * N) return std::nullopt;
  auto raw = hex_decode(text);
  if (!raw) return std::nullopt;
  return from_bytes(*raw);
}

template <std::size_t N, class Tag>
std::optional<Digest<N, Tag>> Digest<N, Tag>::from_bytes(std::string_view raw) {
  if (raw.size() != N) return std::nullopt;
  Digest d;
  for (std::size_t i = 0; i < N; ++i) d.bytes[i] = static_cast<std::uint8_t>(raw[i]);
  return d;
}

template struct Digest<20, Sha1Tag>;
template struct Digest<32, Sha256Tag>;

namespace {
template <class DigestT>
const EVP_MD* algorithm();
template <>
const EVP_MD* algorithm<Sha1Digest>() {
  return EVP_sha1();
}
template <>
const EVP_MD* algorithm<Sha256Digest>() {
  return EVP_sha256();
}
}  // namespace

template <class DigestT>
struct Hasher<DigestT>::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Impl() {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, algorithm<DigestT>(), nullptr) != 1) {
      throw std::runtime_error("OpenSSL digest initialisation failed");
    }
  }
  ~Impl() { EVP_MD_CTX_free(ctx); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

template <class DigestT>
Hasher<DigestT>::Hasher() : impl_(std::make_unique<Impl>()) {}
template <class DigestT>
Hasher<DigestT>::~Hasher() = default;
template <class DigestT>
Hasher<DigestT>::Hasher(Hasher&&) noexcept = default;
template <class DigestT>
Hasher<DigestT>& Hasher<DigestT>::operator=(Hasher&&) noexcept = default;

template <class DigestT>
void Hasher<DigestT>::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(impl_->ctx, data, size);
}

template <class DigestT>
void Hasher<DigestT>::update(std::string_view data) {
  update(data.data(), data.size());
}

template <class DigestT>
DigestT Hasher<DigestT>::finish() {
  DigestT out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.bytes.data(), &len);
  EVP_DigestInit_ex(impl_->ctx, algorithm<DigestT>(), nullptr);
  return out;
}

template class Hasher<Sha1Digest>;
template class Hasher<Sha256Digest>;

Sha1Digest sha1(std::string_view data) {
  Sha1Digest out;
  EVP_Digest(data.data(), data.size(), out.bytes.data(), nullptr, EVP_sha1(), nullptr);
  return out;
}

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out;
  EVP_Digest(data.data(), data.size(), out.bytes.data(), nullptr, EVP_sha256(), nullptr);
  return out;
}

}  // namespace starling
