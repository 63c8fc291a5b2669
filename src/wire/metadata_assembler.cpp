#include "wire/metadata_assembler.hpp"

#include <algorithm>

#include "wire/ut_metadata.hpp"

namespace starling::wire {

MetadataAssembler::MetadataAssembler(const Sha1Digest& info_hash, MetadataLimits limits)
    : info_hash_(info_hash), limits_(limits) {}

Status MetadataAssembler::on_size(PeerId peer, std::int64_t size) {
  (void)peer;
  if (size <= 0 || size > limits_.max_size) {
    return Error(Errc::wire_bad_metadata_message, "metadata_size " + std::to_string(size) +
                                                      " outside 1.." +
                                                      std::to_string(limits_.max_size));
  }
  if (size_ == 0) {
    size_ = size;
    buffer_.assign(static_cast<std::size_t>(size), '\0');
    pieces_.assign(static_cast<std::size_t>(metadata_pieces(size)), Piece{});
    return ok();
  }
  if (size != size_) {
    return Error(Errc::wire_bad_metadata_message, "metadata_size " + std::to_string(size) +
                                                      " differs from " + std::to_string(size_));
  }
  return ok();
}

std::int64_t MetadataAssembler::piece_length(std::int32_t piece) const {
  return std::min(kMetadataPieceSize, size_ - std::int64_t{piece} * kMetadataPieceSize);
}

int MetadataAssembler::outstanding(PeerId peer) const {
  return static_cast<int>(std::count_if(pieces_.begin(), pieces_.end(), [&](const Piece& p) {
    return !p.received && p.requested_from == peer;
  }));
}

std::optional<std::int32_t> MetadataAssembler::next_request(PeerId peer, TimePoint now) {
  if (size_ == 0 || complete_ || rejected_.count(peer) != 0) return std::nullopt;
  if (outstanding(peer) >= limits_.max_requests_per_peer) return std::nullopt;
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    Piece& p = pieces_[i];
    if (p.received || p.requested_from) continue;
    p.requested_from = peer;
    p.requested_at = now;
    return static_cast<std::int32_t>(i);
  }
  return std::nullopt;
}

MetadataAssembler::Outcome MetadataAssembler::on_data(PeerId peer, std::int32_t piece,
                                                      std::int64_t total_size,
                                                      std::string_view data) {
  if (size_ == 0 || complete_ || piece < 0 || static_cast<std::size_t>(piece) >= pieces_.size()) {
    return Outcome::ignored;
  }
  Piece& p = pieces_[static_cast<std::size_t>(piece)];
  // Unrequested data is ignored: otherwise anyone could overwrite pieces we already hold.
  if (p.received || p.requested_from != peer || total_size != size_ ||
      static_cast<std::int64_t>(data.size()) != piece_length(piece)) {
    return Outcome::ignored;
  }
  std::copy(
      data.begin(), data.end(),
      buffer_.begin() + static_cast<std::ptrdiff_t>(std::int64_t{piece} * kMetadataPieceSize));
  p.received = true;
  p.requested_from.reset();
  p.sent_by = peer;
  if (!std::all_of(pieces_.begin(), pieces_.end(), [](const Piece& q) { return q.received; })) {
    return Outcome::stored;
  }
  if (sha1(buffer_) == info_hash_) {
    complete_ = true;
    return Outcome::complete;
  }
  culprits_.clear();
  for (Piece& q : pieces_) {
    culprits_.insert(q.sent_by);
    q = Piece{};
  }
  return Outcome::mismatch;
}

void MetadataAssembler::on_reject(PeerId peer, std::int32_t piece) {
  rejected_.insert(peer);
  if (piece >= 0 && static_cast<std::size_t>(piece) < pieces_.size()) {
    Piece& p = pieces_[static_cast<std::size_t>(piece)];
    if (p.requested_from == peer) p.requested_from.reset();
  }
}

void MetadataAssembler::on_peer_gone(PeerId peer) {
  for (Piece& p : pieces_) {
    if (p.requested_from == peer) p.requested_from.reset();
  }
}

void MetadataAssembler::expire(TimePoint now) {
  for (Piece& p : pieces_) {
    if (p.requested_from && !p.received && now - p.requested_at >= limits_.request_timeout) {
      p.requested_from.reset();
    }
  }
}

}  // namespace starling::wire
