// Requests, flows and piece completion of the simulated swarm.
#include <algorithm>

#include "sim/swarm.hpp"

namespace starling::sim {

// Keep the connection's queue topped up while the sender unchokes us and has something we want;
// a request to an idle connection starts flowing one latency later.
// In a step's parallel part (finish_front) the connection's flow is running, so nothing is
// scheduled here: only the receiver's picker, the half and `part` are touched.
void Swarm::request(HalfId h, StepPart& part) {
  // The dense flags first: many calls (a HAVE tick's, a step's UNCHOKEs) find nothing to do,
  // and the half and the receiver are a cache miss each at 10,000 peers.
  const HalfState& state = half_state_[h];
  if (!state.open || state.choked || !state.interested || done_[half_to_[h]] != 0) return;
  SimHalf& s = halves_[h];
  SimPeer& d = peers_[s.to];
  const Bitfield& sender_has = peers_[s.from].picker.have_pieces();
  const TimePoint now = engine_.now();
  const bool whole_pieces = gridded() && settings_.whole_piece_requests;
  for (;;) {
    const int want = blocks_to_request(s);
    if (want == 0) break;
    std::vector<BlockRef>& blocks = part.picked;
    d.picker.pick(sender_has, want, policy::PeerKey(s.from), blocks);
    if (blocks.empty()) break;
    if (whole_pieces) {
      // A pick that ends inside a piece (it began with the free tail of a started one) takes
      // the rest of that piece too: otherwise every later pick would be a tail and a head, two
      // requests, and the next pick takes those free blocks first anyway.
      const int rest = d.picker.free_blocks(blocks.back().piece);
      if (rest > 0) {
        d.picker.pick(sender_has, rest, policy::PeerKey(s.from), part.picked_rest);
        blocks.insert(blocks.end(), part.picked_rest.begin(), part.picked_rest.end());
      }
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (i == 0 || blocks[i].piece != blocks[i - 1].piece) {
        s.queue.push_back(SimRequest{blocks[i].piece, {}, 0});
        ++part.requests;
      }
      s.queue.back().blocks.push_back(blocks[i].block);
      s.queue.back().bytes += geometry_.block_length(blocks[i]);
    }
    s.pipeline.on_requests_sent(static_cast<int>(blocks.size()), now);
  }
  if (s.flow == kNoFlow && !s.queue.empty() && !engine_.pending(s.event)) {
    s.event = after(settings_.latency, [this, h] { start_flow(h); });
  }
}

// How many blocks the connection's next pick asks for; 0: its queue is deep enough.
int Swarm::blocks_to_request(const SimHalf& s) const {
  const int per_piece = geometry_.blocks_per_piece();
  if (!settings_.engine_pipeline) {
    const auto depth = static_cast<std::size_t>(std::max(settings_.requests_per_connection, 1));
    return s.queue.size() >= depth ? 0 : per_piece;
  }
  // Whole pieces when the depth allows: a request is a flow, and flows cost events.
  int want = s.pipeline.requests_to_send();
  const int depth_blocks = s.pipeline.desired_outstanding();
  if (gridded() && settings_.whole_piece_requests && depth_blocks >= per_piece) {
    want -= want % per_piece;
  }
  return want == 0 || want < std::min(per_piece, depth_blocks) ? 0 : want;
}

// Whether request(h) could change anything but its flags' checks: the queue has room, or an
// idle flow waits for its start. Reads only the half and the engine (a HAVE tick's workers).
bool Swarm::request_would_act(HalfId h) const {
  const SimHalf& s = halves_[h];
  return blocks_to_request(s) > 0 ||
         (s.flow == kNoFlow && !s.queue.empty() && !engine_.pending(s.event));
}

void Swarm::refill(PeerId p) {
  // Index loop: request() does not change who unchokes us.
  const std::vector<HalfId>& from = peers_[p].unchoked_by;
  for (std::size_t i = 0; i < from.size(); ++i) request(from[i]);
}

void Swarm::start_flow(HalfId h) {
  SimHalf& s = halves_[h];
  if (!half_state_[h].open || half_state_[h].choked || s.queue.empty() || s.flow != kNoFlow) {
    return;
  }
  s.flow = network_.add_flow(peers_[s.from].node, peers_[s.to].node, s.queue.front().bytes,
                             engine_.now());
  s.flow_credited = 0;
  if (flow_owner_.size() <= s.flow) flow_owner_.resize(s.flow + 1);
  flow_owner_[s.flow] = h;
  // Its rate, and so its finish event, comes with the next settle().
}

void Swarm::settle() {
  for (FlowId flow : network_.settle(engine_.now())) schedule_finish(flow_owner_[flow]);
}

void Swarm::schedule_finish(HalfId h) {
  SimHalf& s = halves_[h];
  if (s.flow == kNoFlow) return;  // its requests were dropped since (a step's effects)
  if (gridded()) {
    schedule_grid_finish(h, network_.finish_time(s.flow));
    return;
  }
  const TimePoint when = network_.finish_time(s.flow);
  if (when == TimePoint::max()) {
    engine_.cancel(s.event);
  } else if (!engine_.reschedule(s.event, when)) {
    s.event = engine_.at(when, [this, h] { finish_front(h, direct_); });
  }
}

void Swarm::emit(StepPart& part, const StepEffect& effect) {
  if (part.deferred) {
    part.effects.push_back(effect);
  } else {
    apply(effect);
  }
}

void Swarm::apply(const StepEffect& effect) {
  switch (effect.kind) {
    case StepEffect::Kind::uploaded:
      uploaded_[effect.a] += effect.bytes;
      break;
    case StepEffect::Kind::end_flow:
      network_.remove_flow(effect.a, engine_.now());
      break;
    case StepEffect::Kind::reschedule:
      schedule_finish(effect.a);
      break;
    case StepEffect::Kind::piece_passed: {
      const PieceIndex piece(static_cast<std::int32_t>(effect.b));
      policy::PiecePicker& picker = peers_[effect.a].picker;
      if (picker.have(piece)) break;  // passed by an earlier finish of the same step
      picker.on_piece_passed(piece);  // simulated pieces always pass
      on_have(effect.a, piece);
      break;
    }
  }
}

// The front request has arrived. The next queued request continues the same flow (its bytes are
// added, the rates do not change); with none queued the flow ends.
// In a step's parallel part, `part` is the thread's: everything outside the receiver (its
// picker, its halves and their flows' byte counts) is emitted as an effect.
void Swarm::finish_front(HalfId h, StepPart& part) {
  SimHalf& s = halves_[h];
  const SimRequest done = std::move(s.queue.front());
  s.queue.erase(s.queue.begin());
  s.delivered += done.bytes;
  s.flow_credited += done.bytes;
  s.last_delivery = engine_.now();
  for (int block : done.blocks) {
    s.pipeline.on_block_received(geometry_.block_length({done.piece, block}), engine_.now());
  }
  emit(part, {part.finish, StepEffect::Kind::uploaded, s.from, 0, done.bytes});
  if (!is_leecher(s.from)) peers_[s.to].from_seeds += done.bytes;
  const PeerId to = s.to;
  const PeerId from = s.from;

  request(h, part);  // top the queue up while this request's blocks are still counted as requested
  if (s.queue.empty()) {
    const FlowId flow = s.flow;
    s.flow = kNoFlow;  // a request picked later pays the latency again
    emit(part, {part.finish, StepEffect::Kind::end_flow, flow, 0, 0});
  } else {
    if (gridded()) {
      network_.continue_flow(s.flow, s.queue.front().bytes, engine_.now());
    } else {
      network_.add_bytes(s.flow, s.queue.front().bytes, engine_.now());
    }
    emit(part, {part.finish, StepEffect::Kind::reschedule, h, 0, 0});
  }
  receive(to, from, done, done.blocks.size(), part);
}

// Drops every queued request (choke, lost interest, departure). With `credit_partial`, the whole
// blocks of the front request that arrived before the choke count as received, as in a real
// client.
void Swarm::drop_requests(HalfId h, bool credit_partial) {
  SimHalf& s = halves_[h];
  engine_.cancel(s.event);
  s.event = {};
  cancel_grid_finish(h);
  std::vector<SimRequest> queue;
  queue.swap(s.queue);
  std::size_t credited = 0;
  if (s.flow != kNoFlow) {
    double moved = network_.remove_flow(s.flow, engine_.now()) - s.flow_credited;
    s.flow = kNoFlow;
    if (credit_partial && !queue.empty()) {
      const SimRequest& front = queue.front();
      for (; credited < front.blocks.size(); ++credited) {
        const double length = geometry_.block_length({front.piece, front.blocks[credited]});
        if (moved < length) break;
        moved -= length;
        s.delivered += length;
        uploaded_[s.from] += length;
        if (!is_leecher(s.from)) peers_[s.to].from_seeds += length;
      }
    }
  }
  policy::PiecePicker& picker = peers_[s.to].picker;
  const policy::PeerKey key(s.from);
  int dropped = 0;
  for (std::size_t r = 0; r < queue.size(); ++r) {
    const std::size_t first = r == 0 ? credited : 0;
    for (std::size_t b = first; b < queue[r].blocks.size(); ++b) {
      picker.abort_request({queue[r].piece, queue[r].blocks[b]}, key);
      ++dropped;
    }
  }
  for (std::size_t b = 0; b < credited; ++b) {
    s.pipeline.on_block_received(
        geometry_.block_length({queue.front().piece, queue.front().blocks[b]}), engine_.now());
  }
  s.pipeline.on_requests_dropped(dropped, engine_.now());
  if (credited > 0) {
    s.last_delivery = engine_.now();
    receive(s.to, s.from, queue.front(), credited, direct_);
  }
}

// The first `blocks` blocks of `request` arrived at `to` from `from`.
void Swarm::receive(PeerId to, PeerId from, const SimRequest& request, std::size_t blocks,
                    StepPart& part) {
  policy::PiecePicker& picker = peers_[to].picker;
  for (std::size_t i = 0; i < blocks; ++i) {
    const BlockRef block{request.piece, request.blocks[i]};
    if (!picker.on_block_received(block, policy::PeerKey(from), part.cancels)) {
      part.duplicate_bytes += geometry_.block_length(block);
      continue;
    }
    for (policy::PeerKey other : part.cancels) {
      cancel_duplicates(to, request.piece, block.block, static_cast<PeerId>(other.value()));
    }
  }
  if (!picker.have(request.piece) && picker.is_piece_complete(request.piece)) {
    emit(part, {part.finish, StepEffect::Kind::piece_passed, to,
                static_cast<std::uint32_t>(request.piece.value()), 0});
  }
}

// End game: a block arrived, so the CANCEL goes to the other peers it was requested from. A
// request already flowing is left alone (its data is on the way); queued ones lose the block.
void Swarm::cancel_duplicates(PeerId to, PieceIndex piece, int block, PeerId sender) {
  for (HalfId h : peers_[sender].uploads) {
    SimHalf& s = halves_[h];
    if (s.to != to) continue;
    const std::size_t first = s.flow != kNoFlow ? 1 : 0;
    for (std::size_t r = first; r < s.queue.size(); ++r) {
      SimRequest& q = s.queue[r];
      if (q.piece != piece) continue;
      const auto it = std::find(q.blocks.begin(), q.blocks.end(), block);
      if (it == q.blocks.end()) continue;
      q.bytes -= geometry_.block_length({piece, block});
      q.blocks.erase(it);
      s.pipeline.on_requests_dropped(1, engine_.now());
    }
    std::erase_if(s.queue, [&, i = std::size_t{0}](const SimRequest& q) mutable {
      return i++ >= first && q.blocks.empty();
    });
    return;
  }
}

void Swarm::complete(PeerId p) {
  SimPeer& peer = peers_[p];
  if (peer.done) return;
  peer.done = true;
  done_[p] = 1;
  peer.completed = engine_.now();
  if (is_leecher(p)) ++completed_;
  // End-game requests still queued are for blocks we now have.
  const std::vector<HalfId> unchoked_by = peer.unchoked_by;
  for (HalfId h : unchoked_by) drop_requests(h, false);
  engine_.cancel(peer.rechoke_event);
  if (settings_.seeds_leave) {
    peer.rechoke_event = engine_.at(next_step(), [this, p] { depart(p); });
  } else {
    // A new seed rechokes at once: its choker now serves round robin.
    peer.rechoke_event = engine_.at(next_step(), [this, p] { rechoke(p, true); });
  }
}

}  // namespace starling::sim
