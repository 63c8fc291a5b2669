#include "deploy/job_document.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <nlohmann/json.hpp>

#include "core/encoding.hpp"

namespace starling::deploy {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDomain = "starling-job-v1";
constexpr std::size_t kMaxTorrentBytes = 64 << 20;
constexpr std::size_t kMaxText = 4096;
constexpr std::size_t kMaxPeers = 64;
constexpr std::int64_t kMaxSeedAfter = 30LL * 24 * 3600;

void append_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ',';
}

Error bad(const std::string& what) {
  return Error(Errc::invalid_argument, "job document: " + what);
}

}  // namespace

Status check_job_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return bad("id must be 1 to 64 characters");
  for (const char c : id) {
    const bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    if (!fine) return bad("id may hold only letters, digits, '-', '_' and '.'");
  }
  if (id == "." || id == "..") return bad("id may not be '.' or '..'");
  return ok();
}

std::string signing_input(const JobSpec& job) {
  std::string out(kDomain);
  out += '\n';
  append_field(out, job.id);
  append_field(out, job.torrent);
  append_field(out, job.dest);
  append_field(out, std::to_string(job.seed_after));
  append_field(out, job.on_done);
  out += std::to_string(job.peers.size());
  out += ':';
  for (const auto& p : job.peers) append_field(out, p);
  append_field(out, std::to_string(job.issued_at));
  append_field(out, job.nonce);
  return out;
}

std::string job_hmac(const JobSpec& job, std::string_view secret) {
  const std::string input = signing_input(job);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &length);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

std::string random_nonce() {
  std::array<unsigned char, 16> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  return hex_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string encode_job(const JobSpec& job, std::string_view secret) {
  Json j{{"v", 1},
         {"id", job.id},
         {"torrent", base64_encode(job.torrent)},
         {"dest", job.dest},
         {"seed_after", job.seed_after},
         {"on_done", job.on_done},
         {"peers", job.peers},
         {"issued_at", job.issued_at},
         {"nonce", job.nonce},
         {"hmac", job_hmac(job, secret)}};
  return j.dump();
}

Expected<JobSpec> decode_job(std::string_view document, std::string_view secret,
                             std::string* hmac_out) {
  Json j = Json::parse(document, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto string_field = [&](const char* key, std::size_t max, bool required,
                          std::string& out) -> Status {
    const auto it = j.find(key);
    if (it == j.end()) {
      if (required) return bad(std::string("missing \"") + key + "\"");
      return ok();
    }
    if (!it->is_string()) return bad(std::string("\"") + key + "\" must be a string");
    out = it->get<std::string>();
    if (out.size() > max) return bad(std::string("\"") + key + "\" is too long");
    return ok();
  };
  auto int_field = [&](const char* key, bool required, std::int64_t& out) -> Status {
    const auto it = j.find(key);
    if (it == j.end()) {
      if (required) return bad(std::string("missing \"") + key + "\"");
      return ok();
    }
    if (!it->is_number_integer()) return bad(std::string("\"") + key + "\" must be an integer");
    out = it->get<std::int64_t>();
    return ok();
  };
  std::int64_t version = 0;
  if (auto s = int_field("v", true, version); !s) return s.error();
  if (version != 1) return bad("unsupported version " + std::to_string(version));

  JobSpec job;
  std::string torrent64;
  std::string mac;
  for (const auto& s :
       {string_field("id", 64, true, job.id),
        string_field("torrent", kMaxTorrentBytes / 3 * 4 + 4, true, torrent64),
        string_field("dest", kMaxText, true, job.dest),
        string_field("on_done", kMaxText, false, job.on_done),
        string_field("nonce", 128, true, job.nonce), string_field("hmac", 64, true, mac),
        int_field("seed_after", false, job.seed_after),
        int_field("issued_at", true, job.issued_at)}) {
    if (!s) return s.error();
  }
  if (const auto it = j.find("peers"); it != j.end()) {
    if (!it->is_array() || it->size() > kMaxPeers) return bad("\"peers\" must be a short array");
    for (const auto& p : *it) {
      if (!p.is_string() || p.get<std::string>().size() > 300) {
        return bad("\"peers\" must hold HOST:PORT strings");
      }
      job.peers.push_back(p.get<std::string>());
    }
  }
  auto torrent = base64_decode(torrent64);
  if (!torrent) return bad("\"torrent\" is not base64");
  job.torrent = std::move(*torrent);

  // Authenticate before looking at what the fields say: an unsigned document gets no opinion.
  const std::string expected = job_hmac(job, secret);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return Error(Errc::invalid_argument, "job document: bad HMAC (wrong secret or altered job)");
  }
  if (auto s = check_job_id(job.id); !s) return s.error();
  if (job.seed_after < 0 || job.seed_after > kMaxSeedAfter) {
    return bad("\"seed_after\" must be 0 to 30 days in seconds");
  }
  if (job.torrent.empty()) return bad("\"torrent\" is empty");
  if (hmac_out) *hmac_out = mac;
  return job;
}

Status ReplayGuard::check_and_remember(const JobSpec& job, std::int64_t now_unix) {
  // Forget nonces whose jobs are refused by age anyway.
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = it->second < now_unix - window_ ? seen_.erase(it) : std::next(it);
  }
  if (job.issued_at < now_unix - window_ || job.issued_at > now_unix + window_) {
    return Error(Errc::invalid_argument,
                 "job document: signed at " + std::to_string(job.issued_at) +
                     ", outside the accepted window of " + std::to_string(window_) +
                     " s around now (" + std::to_string(now_unix) + "): a replay or a wrong clock");
  }
  if (job.nonce.size() < 16) return bad("\"nonce\" is too short");
  if (!seen_.emplace(job.nonce, job.issued_at).second) {
    return Error(Errc::invalid_argument, "job document: nonce already used (a replayed job)");
  }
  return ok();
}

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool padding =
        c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    const bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/' || padding;
    if (!fine) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace starling::deploy
