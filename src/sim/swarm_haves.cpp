// HAVEs: how a piece a peer got reaches its neighbours' pickers and interest counts.
#include <algorithm>
#include <atomic>

#include "sim/swarm.hpp"

namespace starling::sim {

// `p` has a new piece: a HAVE to every neighbour, handled there in the next batch (the next tick,
// or the receiver's own batch with HaveDelivery::per_receiver).
namespace {

// Memory-bound at 10,000 peers: start every miss of a batch before handling its first HAVE.
// got_order is needed only for a piece the receiver has: lacking it now, it lacked it when the
// sender got it (the have bitfield is small and stays cached; got_order is one more miss).
void prefetch_haves(const SimPeer& peer, const std::vector<HaveNotice>& notices,
                    const std::vector<HalfState>& half_state) {
  for (const HaveNotice& notice : notices) {
    __builtin_prefetch(&half_state[notice.half]);
    if (peer.done) {
      __builtin_prefetch(&peer.got_order[static_cast<std::size_t>(notice.piece.value())]);
    } else {
      peer.picker.prefetch_availability(notice.piece);
      if (peer.picker.have(notice.piece)) {
        __builtin_prefetch(&peer.got_order[static_cast<std::size_t>(notice.piece.value())]);
      }
    }
  }
}

// Whether the receiver lacked the piece when the sender got it (got_order decides "when", so
// handling the HAVE late is exact): then the sender gained a piece the receiver wants.
bool lacked_when_sent(const SimPeer& peer, const HaveNotice& notice) {
  return (!peer.done && !peer.picker.have(notice.piece)) ||
         peer.got_order[static_cast<std::size_t>(notice.piece.value())] > notice.order;
}

}  // namespace

void Swarm::on_have(PeerId p, PieceIndex piece) {
  SimPeer& peer = peers_[p];
  const std::uint32_t order = next_got_order_++;
  peer.got_order[static_cast<std::size_t>(piece.value())] = order;
  have_bits_[piece_word(p, piece)] |= piece_bit(piece);
  if (have_lane_ < 0) {
    got_window_[piece_word(p, piece)] |= piece_bit(piece);
    got_window_list_.push_back({p, piece});
  }
  if (is_leecher(p)) {
    ++piece_copies_[static_cast<std::size_t>(piece.value())];
    ++leecher_copies_;
  }
  if (have_lane_ < 0) {
    // Into the receivers' inboxes at the tick, on the workers (deliver_sent).
    if (!peer.uploads.empty()) {
      sent_.push_back(SentHave{p, piece, order});
      schedule_have_tick();
    }
  } else {
    for (std::size_t i = 0; i < peer.uploads.size(); ++i) {
      const PeerId to = peer.upload_to[i];
      std::vector<HaveNotice>& inbox = inboxes_[to];
      if (inbox.empty()) engine_.post(have_lane_, to);
      inbox.push_back(HaveNotice{peer.uploads[i], piece, order});
    }
  }
  if (peer.picker.is_finished()) complete(p);
}

// The HAVEs sent since the last tick, into the inboxes of receivers begin .. end-1, in the order
// they were sent (so each inbox is what on_have would have filled). Run before connections
// change too (deliver_all_sent): a HAVE goes to the neighbours its sender had when sending.
void Swarm::deliver_sent(std::size_t begin, std::size_t end) {
  // Each sender is two or three cache misses deep (its peer, then its lists): start them a few
  // HAVEs ahead, the peer first, then the lists once the peer has arrived.
  constexpr std::size_t kAhead = 4;
  for (std::size_t k = 0; k < std::min(kAhead, sent_.size()); ++k) {
    __builtin_prefetch(&peers_[sent_[k].from].uploads);
  }
  for (std::size_t k = 0; k < sent_.size(); ++k) {
    const SentHave& sent = sent_[k];
    if (k + kAhead < sent_.size()) __builtin_prefetch(&peers_[sent_[k + kAhead].from].uploads);
    if (k + kAhead / 2 < sent_.size()) {
      const SimPeer& next = peers_[sent_[k + kAhead / 2].from];
      __builtin_prefetch(next.uploads.data());
      __builtin_prefetch(next.upload_to.data());
      __builtin_prefetch(next.upload_to.data() + 16);
    }
    const SimPeer& peer = peers_[sent.from];
    for (std::size_t i = 0; i < peer.uploads.size(); ++i) {
      const PeerId to = peer.upload_to[i];
      if (to < begin || to >= end) continue;
      inboxes_[to].push_back(HaveNotice{peer.uploads[i], sent.piece, sent.order});
    }
  }
}

void Swarm::deliver_all_sent() {
  if (sent_.empty()) return;
  deliver_sent(0, peers_.size());
  sent_.clear();
}

// The HAVEs that reached `p`, handled at once (HaveDelivery::per_receiver, and before a
// connection closes): availability, and interest both ways. missing(from -> p) grows
// if we lacked the piece when the sender got it; otherwise the sender no longer lacks one of
// ours, and missing(p -> from) shrinks. got_order decides "when", so handling late is exact.
void Swarm::flush_haves(PeerId p) {
  SimPeer& peer = peers_[p];
  notices_.clear();
  notices_.swap(inboxes_[p]);
  if (!peer.present) return;
  to_request_.clear();
  prefetch_haves(peer, notices_, half_state_);
  for (const HaveNotice& notice : notices_) {
    HalfState& in = half_state_[notice.half];  // sender -> p
    if (!in.open) continue;
    if (!peer.done) peer.picker.add_availability(notice.piece);
    if (lacked_when_sent(peer, notice)) {
      ++in.gained;
      // set_interest would find no change but read the receiver's done flag (two more misses):
      // the receiver is `p`, whose flag we have.
      if (in.interested != (in.missing() > 0 && !peer.done)) {
        set_interest(notice.half, in.missing() > 0);
      }
      if (!in.choked) to_request_.push_back(notice.half);
    } else {
      const HalfId back = reverse(notice.half);
      ++half_state_[back].filled;
      set_interest(back, half_state_[back].missing() > 0);
    }
  }
  std::sort(to_request_.begin(), to_request_.end());
  to_request_.erase(std::unique(to_request_.begin(), to_request_.end()), to_request_.end());
  for (HalfId h : to_request_) request(h);
  notices_.clear();
  // Nothing handled above delivers a piece, so nothing arrived meanwhile; keep the larger buffer.
  if (inboxes_[p].empty()) notices_.swap(inboxes_[p]);
}

void Swarm::schedule_have_tick() {
  if (have_tick_pending_) return;
  have_tick_pending_ = true;
  const auto step = std::chrono::duration_cast<Duration>(settings_.have_delay);
  TimePoint when = engine_.now();
  if (step > Duration::zero()) {
    // The next multiple of have_delay after now: every peer's HAVEs of a window land together.
    when = TimePoint{} + (engine_.now().time_since_epoch() / step + 1) * step;
  }
  engine_.at(on_grid(when), [this] { have_tick(); });
}

// Every receiver's HAVEs since the last tick. The per-receiver part (apply_haves) runs on the
// workers, each over a fixed range of receivers: it touches only the receiver's own picker and
// got_order, and the interest counts of its connections (HalfState::gained and filled, each
// written by one thread only; the sums do not depend on the order). Everything that starts
// something (interest changes, requests) follows here, in an order no thread count changes.
void Swarm::have_tick() {
  have_tick_pending_ = false;
  const std::size_t n = peers_.size();
  workers_->run([this, n](int part, int parts) {
    TickOutput& out = tick_out_[static_cast<std::size_t>(part)];
    out.interest.clear();
    out.requests.clear();
    const std::size_t begin = n * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts);
    const std::size_t end =
        n * static_cast<std::size_t>(part + 1) / static_cast<std::size_t>(parts);
    deliver_sent(begin, end);
    for (std::size_t p = begin; p < end; ++p) {
      if (p + 2 < end && !inboxes_[p + 2].empty()) {  // its first misses, two receivers ahead
        __builtin_prefetch(inboxes_[p + 2].data());
        __builtin_prefetch(&peers_[p + 2].present);
      }
      if (!inboxes_[p].empty()) apply_haves(static_cast<PeerId>(p), out);
    }
    for (const auto& [p, piece] : got_window_list_) {
      if (p >= begin && p < end) got_window_[piece_word(p, piece)] &= ~piece_bit(piece);
    }
  });
  sent_.clear();
  got_window_list_.clear();
  // A half may be named twice, or by a thread that saw its count pass zero on the way: sorted
  // and unique, and set_interest changes nothing where the interest is already right.
  std::vector<HalfId>& interest = tick_interest_;
  interest.clear();
  for (const TickOutput& out : tick_out_) {
    interest.insert(interest.end(), out.interest.begin(), out.interest.end());
  }
  std::sort(interest.begin(), interest.end());
  interest.erase(std::unique(interest.begin(), interest.end()), interest.end());
  for (HalfId h : interest) set_interest(h, half_state_[h].missing() > 0);
  for (const TickOutput& out : tick_out_) {
    for (HalfId h : out.requests) request(h);
  }
}

// flush_haves' bookkeeping for one receiver, without what it starts: halves whose interest may
// change and halves to request from go to `out`. Runs beside other receivers' (see have_tick).
void Swarm::apply_haves(PeerId p, TickOutput& out) {
  SimPeer& peer = peers_[p];
  std::vector<HaveNotice>& inbox = inboxes_[p];
  if (!peer.present) {
    inbox.clear();
    return;
  }
  // The misses of the batch first. A piece we have is not counted (its availability no longer
  // matters to us); one we got before this tick's window, we got before its sender, whose HAVE
  // was sent in the window: got_order (a miss of its own) is read only for pieces got since.
  for (const HaveNotice& notice : inbox) {
    __builtin_prefetch(&half_state_[notice.half]);
    if (!has_piece(p, notice.piece)) peer.picker.prefetch_availability(notice.piece);
  }
  const auto got_since_tick = [&](PieceIndex piece) {
    return (got_window_[piece_word(p, piece)] & piece_bit(piece)) != 0;
  };
  const std::size_t first_request = out.requests.size();
  for (const HaveNotice& notice : inbox) {
    HalfState& in = half_state_[notice.half];  // sender -> p
    if (!in.open) continue;
    const bool had = has_piece(p, notice.piece);  // a done peer has every piece
    if (!had) peer.picker.add_availability(notice.piece);
    if (!had || (got_since_tick(notice.piece) && lacked_when_sent(peer, notice))) {
      std::atomic_ref<std::int32_t> gained(in.gained);  // only this thread writes it
      gained.store(gained.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (in.interested == peer.done) out.interest.push_back(notice.half);  // wants !done
      if (!in.choked) out.requests.push_back(notice.half);
    } else {
      // p -> sender: its `filled` is ours to write, its `gained` the sender's thread's, which
      // only grows meanwhile; so if the count ends at zero, the last of our decrements sees it
      // at zero or below, and names the half.
      HalfState& back = half_state_[reverse(notice.half)];
      std::atomic_ref<std::int32_t> filled(back.filled);
      const std::int32_t now_filled = filled.load(std::memory_order_relaxed) + 1;
      filled.store(now_filled, std::memory_order_relaxed);
      const std::int32_t gained =
          std::atomic_ref<std::int32_t>(back.gained).load(std::memory_order_relaxed);
      if (gained - now_filled <= 0) out.interest.push_back(reverse(notice.half));
    }
  }
  const auto first = out.requests.begin() + static_cast<std::ptrdiff_t>(first_request);
  std::sort(first, out.requests.end());
  out.requests.erase(std::unique(first, out.requests.end()), out.requests.end());
  // A connection whose queue is deep enough would find nothing to ask: leave it out here, where
  // its miss is one of a worker's, not of the serial part's.
  out.requests.erase(
      std::remove_if(out.requests.begin() + static_cast<std::ptrdiff_t>(first_request),
                     out.requests.end(), [this](HalfId h) { return !request_would_act(h); }),
      out.requests.end());
  inbox.clear();
}

}  // namespace starling::sim
