#include "policy/piece_picker.hpp"

#include <algorithm>
#include <cassert>
#include <string>
#include <tuple>

#include "metainfo/file_layout.hpp"

namespace starling::policy {
namespace {

int clamp_priority(int priority) {
  return std::clamp(priority, 0, max_priority);
}

}  // namespace

PiecePicker::PiecePicker(const PieceGeometry& geometry, const PickerSettings& settings)
    : geometry_(geometry),
      settings_(settings),
      rng_state_(settings.seed),
      priority_(static_cast<std::size_t>(geometry.num_pieces),
                static_cast<std::uint8_t>(clamp_priority(settings.default_priority))),
      have_(static_cast<std::size_t>(geometry.num_pieces)),
      candidates_(geometry.num_pieces),
      download_slot_(static_cast<std::size_t>(geometry.num_pieces), -1) {
  const int priority = clamp_priority(settings.default_priority);
  if (priority == 0) return;
  missing_wanted_ = geometry.num_pieces;
  for (PieceIndex p(0); p.value() < geometry.num_pieces; ++p) candidates_.insert(p, priority);
}

PiecePicker::PiecePicker(const FileLayout& layout, const PickerSettings& settings)
    : PiecePicker(layout.geometry(), settings) {}

// splitmix64: tiny, fast, and the same sequence on every platform (std distributions are not).
std::uint64_t PiecePicker::random_below(std::uint64_t n) {
  rng_state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = rng_state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return n == 0 ? 0 : z % n;
}

void PiecePicker::Requesters::push_back(PeerKey peer) {
  if (size_ < kInline) {
    inline_[size_++] = peer;
    return;
  }
  if (size_ == kInline)
    spill_ = std::make_unique<std::vector<PeerKey>>(inline_.begin(), inline_.end());
  spill_->push_back(peer);
  ++size_;
}

void PiecePicker::Requesters::erase(const PeerKey* at) {
  const auto i = static_cast<std::size_t>(at - begin());
  if (size_ <= kInline) {
    std::copy(inline_.begin() + static_cast<std::ptrdiff_t>(i) + 1, inline_.begin() + size_,
              inline_.begin() + static_cast<std::ptrdiff_t>(i));
    --size_;
    return;
  }
  spill_->erase(spill_->begin() + static_cast<std::ptrdiff_t>(i));
  --size_;
  if (size_ == kInline) {
    std::copy(spill_->begin(), spill_->end(), inline_.begin());
    spill_.reset();
  }
}

// ---------------------------------------------------------------------------------------------
// Availability

void PiecePicker::add_availability(const Bitfield& peer_has) {
  if (peer_has.size() != have_.size()) return;  // the wire layer rejects these; stay safe
  const std::string_view bytes = peer_has.bytes();
  for (std::size_t byte = 0; byte < bytes.size(); ++byte) {
    if (bytes[byte] == 0) continue;  // most bitfields of new peers are sparse
    const std::size_t end = std::min(peer_has.size(), byte * 8 + 8);
    for (std::size_t i = byte * 8; i < end; ++i) {
      if (peer_has.get(i)) add_availability(PieceIndex(static_cast<std::int32_t>(i)));
    }
  }
}

void PiecePicker::add_availability(PieceIndex piece) {
  if (!valid(piece)) return;  // a HAVE past the end: the session drops such peers
  candidates_.add(piece);
}

void PiecePicker::remove_availability(const Bitfield& peer_has) {
  if (peer_has.size() != have_.size()) return;
  const std::string_view bytes = peer_has.bytes();
  for (std::size_t byte = 0; byte < bytes.size(); ++byte) {
    if (bytes[byte] == 0) continue;
    const std::size_t end = std::min(peer_has.size(), byte * 8 + 8);
    for (std::size_t i = byte * 8; i < end; ++i) {
      if (!peer_has.get(i)) continue;
      // Never below zero, should the caller's bookkeeping be off.
      candidates_.remove(PieceIndex(static_cast<std::int32_t>(i)));
    }
  }
}

void PiecePicker::remove_seed() {
  if (seeds_ > 0) --seeds_;
}

// ---------------------------------------------------------------------------------------------
// Priorities

void PiecePicker::set_wanted_count(PieceIndex piece, bool was_wanted) {
  missing_wanted_ +=
      static_cast<std::int32_t>(wanted(piece)) - static_cast<std::int32_t>(was_wanted);
}

void PiecePicker::set_piece_priority(PieceIndex piece, int priority) {
  if (!valid(piece)) return;
  priority = clamp_priority(priority);
  const int old = piece_priority(piece);
  if (old == priority) return;
  const bool was_wanted = wanted(piece);
  candidates_.erase(piece);
  priority_[index(piece)] = static_cast<std::uint8_t>(priority);
  // A started piece stays in downloads_ whatever its priority; pick() skips priority 0 there.
  if (wanted(piece) && download_slot_[index(piece)] < 0) candidates_.insert(piece, priority);
  set_wanted_count(piece, was_wanted);
}

Status PiecePicker::set_file_priorities(const FileLayout& layout,
                                        const std::vector<int>& priorities) {
  const auto& files = layout.files();
  if (priorities.size() != files.size()) {
    return Error(Errc::invalid_argument, "file priorities: " + std::to_string(priorities.size()) +
                                             " given for " + std::to_string(files.size()) +
                                             " files");
  }
  if (layout.num_pieces() != num_pieces()) {
    return Error(Errc::invalid_argument, "file priorities: layout has " +
                                             std::to_string(layout.num_pieces()) +
                                             " pieces, picker " + std::to_string(num_pieces()));
  }
  for (std::size_t f = 0; f < priorities.size(); ++f) {
    if (priorities[f] < 0 || priorities[f] > max_priority) {
      return Error(Errc::invalid_argument, "file priority " + std::to_string(priorities[f]) +
                                               " for file " + std::to_string(f) +
                                               " is outside 0.." + std::to_string(max_priority));
    }
  }
  // -1: no file seen yet. Padding files only decide a piece that holds nothing else.
  std::vector<int> real(static_cast<std::size_t>(num_pieces()), -1);
  std::vector<int> padding(real.size(), -1);
  for (std::size_t f = 0; f < files.size(); ++f) {
    const auto [first, last] = layout.file_pieces(FileIndex(static_cast<std::int32_t>(f)));
    std::vector<int>& target = files[f].pad ? padding : real;
    for (PieceIndex p = first; p.value() <= last.value(); ++p) {
      target[index(p)] = std::max(target[index(p)], priorities[f]);
    }
  }
  for (PieceIndex p(0); p.value() < num_pieces(); ++p) {
    const int chosen = real[index(p)] >= 0 ? real[index(p)] : padding[index(p)];
    set_piece_priority(p, std::max(chosen, 0));
  }
  return ok();
}

// ---------------------------------------------------------------------------------------------
// Downloads (started pieces)

PiecePicker::Download* PiecePicker::find_download(PieceIndex piece) {
  const std::int32_t slot = download_slot_[index(piece)];
  return slot < 0 ? nullptr : &downloads_[static_cast<std::size_t>(slot)];
}

const PiecePicker::Download* PiecePicker::find_download(PieceIndex piece) const {
  const std::int32_t slot = download_slot_[index(piece)];
  return slot < 0 ? nullptr : &downloads_[static_cast<std::size_t>(slot)];
}

PiecePicker::Download& PiecePicker::start_download(PieceIndex piece) {
  assert(find_download(piece) == nullptr);
  candidates_.erase(piece);
  Download d;
  d.piece = piece;
  d.started = next_started_++;
  if (!spare_blocks_.empty()) {  // a finished piece's block array: no allocation per piece
    d.blocks = std::move(spare_blocks_.back());
    spare_blocks_.pop_back();
  }
  d.blocks.resize(static_cast<std::size_t>(geometry_.blocks_in_piece(piece)));
  download_slot_[index(piece)] = static_cast<std::int32_t>(downloads_.size());
  downloads_.push_back(std::move(d));
  return downloads_.back();
}

void PiecePicker::drop_download(PieceIndex piece) {
  const std::int32_t slot = download_slot_[index(piece)];
  if (slot < 0) return;
  const auto s = static_cast<std::size_t>(slot);
  if (spare_blocks_.size() < kSpareBlockArrays) {
    std::vector<Block>& spare = spare_blocks_.emplace_back(std::move(downloads_[s].blocks));
    spare.clear();
  }
  if (s + 1 != downloads_.size()) {
    downloads_[s] = std::move(downloads_.back());
    download_slot_[index(downloads_[s].piece)] = slot;
  }
  downloads_.pop_back();
  download_slot_[index(piece)] = -1;
  if (wanted(piece)) candidates_.insert(piece, piece_priority(piece));
}

// A started piece with nothing requested and nothing received is not "started" any more: it goes
// back into the availability order so that strict priority does not favour it.
void PiecePicker::drop_if_untouched(Download& d) {
  if (d.requested == 0 && d.received == 0) drop_download(d.piece);
}

// ---------------------------------------------------------------------------------------------
// Picking

std::vector<BlockRef> PiecePicker::pick(const Bitfield& peer_has, int want_blocks, PeerKey peer) {
  std::vector<BlockRef> out;
  pick(peer_has, want_blocks, peer, out);
  return out;
}

void PiecePicker::pick(const Bitfield& peer_has, int want_blocks, PeerKey peer,
                       std::vector<BlockRef>& out) {
  out.clear();
  if (want_blocks <= 0 || peer_has.size() != have_.size()) return;
  const auto want = static_cast<std::size_t>(want_blocks);

  // (a) Strict priority: finish what is started, higher priority and older pieces first.
  std::vector<Download*>& started = started_;
  started.clear();
  for (Download& d : downloads_) {
    const bool has_free = d.requested + d.received < static_cast<int>(d.blocks.size());
    if (has_free && piece_priority(d.piece) > 0 && peer_has.get(index(d.piece))) {
      started.push_back(&d);
    }
  }
  std::sort(started.begin(), started.end(), [this](const Download* x, const Download* y) {
    return std::tuple(-piece_priority(x->piece), x->started) <
           std::tuple(-piece_priority(y->piece), y->started);
  });
  for (Download* d : started) {
    if (out.size() >= want) break;
    take_free_blocks(*d, want_blocks, peer, out);
  }

  // (b), (c) New pieces. start_download may reallocate downloads_: `started` is dead from here.
  while (out.size() < want) {
    const std::optional<PieceIndex> piece = next_new_piece(peer_has);
    if (!piece) break;
    take_free_blocks(start_download(*piece), want_blocks, peer, out);
  }

  // (d) End game: this peer has no free block we want; ask it for blocks others are serving.
  if (settings_.end_game && out.size() < want &&
      (!settings_.end_game_only_when_all_started || candidates_.size() == 0)) {
    pick_end_game(peer_has, want_blocks, peer, out);
  }
}

void PiecePicker::take_free_blocks(Download& d, int want, PeerKey peer,
                                   std::vector<BlockRef>& out) {
  for (std::size_t i = 0; i < d.blocks.size() && out.size() < static_cast<std::size_t>(want); ++i) {
    Block& b = d.blocks[i];
    if (b.state != BlockState::free) continue;
    b.state = BlockState::requested;
    b.requesters.clear();
    b.requesters.push_back(peer);
    ++d.requested;
    out.push_back(BlockRef{d.piece, static_cast<int>(i)});
  }
}

std::optional<PieceIndex> PiecePicker::next_new_piece(const Bitfield& peer_has) {
  if (settings_.sequential) return next_sequential(peer_has);
  if (num_have_ < settings_.random_first_pieces) return next_random(peer_has);
  return next_rarest(peer_has);
}

// Lowest index among the highest-priority candidates the peer has.
std::optional<PieceIndex> PiecePicker::next_sequential(const Bitfield& peer_has) {
  for (int prio = max_priority; prio > 0; --prio) {
    if (candidates_.size(prio) == 0 || candidates_.count(prio, peer_has) == 0) continue;
    return candidates_.nth(prio, peer_has, -1, 0);
  }
  return std::nullopt;
}

// Any candidate the peer has, highest priority first, each equally likely.
std::optional<PieceIndex> PiecePicker::next_random(const Bitfield& peer_has) {
  for (int prio = max_priority; prio > 0; --prio) {
    if (candidates_.size(prio) == 0) continue;
    const int n = candidates_.count(prio, peer_has);
    if (n == 0) continue;
    return candidates_.nth(prio, peer_has, -1,
                           static_cast<int>(random_below(static_cast<std::uint64_t>(n))));
  }
  return std::nullopt;
}

// The lowest availability among the highest-priority candidates the peer has; each piece at it
// equally likely.
std::optional<PieceIndex> PiecePicker::next_rarest(const Bitfield& peer_has) {
  for (int prio = max_priority; prio > 0; --prio) {
    if (candidates_.size(prio) == 0) continue;
    const PieceCandidates::Rarest rarest = candidates_.rarest(prio, peer_has);
    if (rarest.count == 0) continue;
    return candidates_.nth(
        prio, peer_has, rarest.availability,
        static_cast<int>(random_below(static_cast<std::uint64_t>(rarest.count))));
  }
  return std::nullopt;
}

// Blocks in the order (requesters, start order, block) without sorting them: the pieces the peer
// has are put in start order (a few dozen at most), then walked once per requester count present,
// fewest first. A block taken at one count now names this peer, so a later pass skips it, as
// the candidates collected before any push would. Stops as soon as `want` blocks are out.
void PiecePicker::pick_end_game(const Bitfield& peer_has, int want, PeerKey peer,
                                std::vector<BlockRef>& out) {
  std::vector<Download*>& pieces = started_;  // pick()'s (a) is done with it
  pieces.clear();
  for (Download& d : downloads_) {
    if (d.requested == 0 || piece_priority(d.piece) == 0 || !peer_has.get(index(d.piece))) {
      continue;
    }
    pieces.push_back(&d);
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const Download* x, const Download* y) { return x->started < y->started; });
  const auto limit = static_cast<std::size_t>(std::max(settings_.end_game_max_requesters, 0));
  const auto wanted_blocks = static_cast<std::size_t>(want);
  const auto eligible = [&](const Block& b) {
    return b.state == BlockState::requested && b.requesters.size() < limit &&
           std::find(b.requesters.begin(), b.requesters.end(), peer) == b.requesters.end();
  };
  std::size_t count = 1;  // a requested block has at least one requester
  while (out.size() < wanted_blocks && count < limit) {
    std::size_t next = limit;  // the next requester count present, for the next pass
    for (Download* d : pieces) {
      if (out.size() >= wanted_blocks) break;
      for (std::size_t i = 0; i < d->blocks.size(); ++i) {
        Block& b = d->blocks[i];
        if (!eligible(b)) continue;
        const std::size_t n = b.requesters.size();
        if (n != count) {
          if (n > count) next = std::min(next, n);
          continue;
        }
        if (out.size() >= wanted_blocks) break;
        b.requesters.push_back(peer);
        out.push_back(BlockRef{d->piece, static_cast<int>(i)});
      }
    }
    count = next;
  }
}

// ---------------------------------------------------------------------------------------------
// Block lifecycle

void PiecePicker::abort_request(BlockRef block, PeerKey peer) {
  if (!valid(block.piece)) return;
  Download* d = find_download(block.piece);
  if (d == nullptr || block.block < 0 || block.block >= static_cast<int>(d->blocks.size())) return;
  Block& b = d->blocks[static_cast<std::size_t>(block.block)];
  if (b.state != BlockState::requested) return;
  const auto it = std::find(b.requesters.begin(), b.requesters.end(), peer);
  if (it == b.requesters.end()) return;
  b.requesters.erase(it);
  if (!b.requesters.empty()) return;  // someone else will still send it
  b.state = BlockState::free;
  --d->requested;
  drop_if_untouched(*d);
}

void PiecePicker::abort_all_requests(PeerKey peer) {
  // Backwards: drop_download moves the last download (already visited) into the freed slot.
  for (std::size_t i = downloads_.size(); i-- > 0;) {
    Download& d = downloads_[i];
    for (Block& b : d.blocks) {
      if (b.state != BlockState::requested) continue;
      const auto it = std::find(b.requesters.begin(), b.requesters.end(), peer);
      if (it == b.requesters.end()) continue;
      b.requesters.erase(it);
      if (b.requesters.empty()) {
        b.state = BlockState::free;
        --d.requested;
      }
    }
    drop_if_untouched(d);
  }
}

std::vector<PeerKey> PiecePicker::on_block_received(BlockRef block, PeerKey peer) {
  std::vector<PeerKey> cancel;
  on_block_received(block, peer, cancel);
  return cancel;
}

bool PiecePicker::on_block_received(BlockRef block, PeerKey peer, std::vector<PeerKey>& cancel) {
  cancel.clear();
  if (!valid(block.piece)) return false;
  if (have(block.piece)) return false;
  if (block.block < 0 || block.block >= geometry_.blocks_in_piece(block.piece)) return false;
  Download* d = find_download(block.piece);
  if (d == nullptr) d = &start_download(block.piece);  // unrequested, but data is data
  Block& b = d->blocks[static_cast<std::size_t>(block.block)];
  if (b.state == BlockState::received) return false;  // the slower end-game duplicate
  for (PeerKey other : b.requesters) {
    if (other != peer) cancel.push_back(other);
  }
  if (b.state == BlockState::requested) --d->requested;
  b.state = BlockState::received;
  b.requesters.clear();
  ++d->received;
  return true;
}

void PiecePicker::on_piece_failed(PieceIndex piece) {
  if (!valid(piece) || have(piece)) return;
  drop_download(piece);
}

void PiecePicker::we_have(PieceIndex piece) {
  if (!valid(piece) || have(piece)) return;
  const bool was_wanted = wanted(piece);
  candidates_.erase(piece);
  have_.set(index(piece));
  ++num_have_;
  drop_download(piece);  // had now, so it does not go back into the order
  set_wanted_count(piece, was_wanted);
}

void PiecePicker::peer_disconnected(PeerKey peer, const Bitfield& peer_has) {
  abort_all_requests(peer);
  remove_availability(peer_has);
}

// ---------------------------------------------------------------------------------------------
// Queries

bool PiecePicker::is_block_received(BlockRef block) const {
  if (!valid(block.piece)) return false;
  if (have(block.piece)) return true;
  const Download* d = find_download(block.piece);
  return d != nullptr && block.block >= 0 && block.block < static_cast<int>(d->blocks.size()) &&
         d->blocks[static_cast<std::size_t>(block.block)].state == BlockState::received;
}

bool PiecePicker::is_piece_complete(PieceIndex piece) const {
  if (!valid(piece)) return false;
  if (have(piece)) return true;
  const Download* d = find_download(piece);
  return d != nullptr && d->received == static_cast<int>(d->blocks.size());
}

int PiecePicker::free_blocks(PieceIndex piece) const {
  if (!valid(piece)) return 0;
  const Download* d = find_download(piece);
  return d == nullptr ? 0 : static_cast<int>(d->blocks.size()) - d->requested - d->received;
}

std::vector<PeerKey> PiecePicker::requesters(BlockRef block) const {
  if (!valid(block.piece)) return {};
  const Download* d = find_download(block.piece);
  if (d == nullptr || block.block < 0 || block.block >= static_cast<int>(d->blocks.size())) {
    return {};
  }
  const Requesters& r = d->blocks[static_cast<std::size_t>(block.block)].requesters;
  return {r.begin(), r.end()};
}

std::vector<PieceIndex> PiecePicker::downloading_pieces() const {
  std::vector<const Download*> ds;
  ds.reserve(downloads_.size());
  for (const Download& d : downloads_) ds.push_back(&d);
  std::sort(ds.begin(), ds.end(),
            [](const Download* x, const Download* y) { return x->started < y->started; });
  std::vector<PieceIndex> out;
  out.reserve(ds.size());
  for (const Download* d : ds) out.push_back(d->piece);
  return out;
}

bool PiecePicker::check_invariants() const {
  if (!candidates_.check()) return false;
  std::int32_t missing = 0;
  for (PieceIndex p(0); p.value() < num_pieces(); ++p) {
    const bool started = download_slot_[index(p)] >= 0;
    if (candidates_.contains(p) != (wanted(p) && !started)) return false;
    if (candidates_.contains(p) && candidates_.priority(p) != piece_priority(p)) return false;
    if (started && (have(p) || find_download(p)->piece != p)) return false;
    missing += wanted(p) ? 1 : 0;
  }
  if (missing != missing_wanted_) return false;
  if (static_cast<std::size_t>(num_have_) != have_.count()) return false;
  for (const Download& d : downloads_) {
    int requested = 0;
    int received = 0;
    for (const Block& b : d.blocks) {
      requested += b.state == BlockState::requested ? 1 : 0;
      received += b.state == BlockState::received ? 1 : 0;
      if ((b.state == BlockState::requested) == b.requesters.empty()) return false;
    }
    if (requested != d.requested || received != d.received) return false;
    if (requested == 0 && received == 0) return false;  // untouched pieces go back to the order
  }
  return true;
}

}  // namespace starling::policy
