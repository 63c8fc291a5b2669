// The state of one simulated peer and of one direction of a connection. The decisions are made
// by the engine's own policy classes, held here by value: a simulated peer runs exactly the
// PiecePicker and Choker a real Torrent runs.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "policy/choker.hpp"
#include "policy/piece_picker.hpp"
#include "policy/request_pipeline.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"

namespace starling::sim {

using PeerId = std::uint32_t;
using HalfId = std::uint32_t;  // connection c has halves 2c (a -> b) and 2c + 1 (b -> a)

// A HAVE on its way: `half` is the connection from its sender to us.
struct HaveNotice {
  std::uint32_t half = 0;
  PieceIndex piece;
  std::uint32_t order = 0;  // the sender's got_order for the piece
};

struct SimPeer {
  SimPeer(const PieceGeometry& geometry, const policy::PickerSettings& picker_settings,
          const policy::ChokerSettings& choker_settings, std::uint64_t choker_seed)
      : picker(geometry, picker_settings), choker(choker_settings, choker_seed) {}

  policy::PiecePicker picker;  // what to request, from our neighbours' HAVEs
  policy::Choker choker;       // whom to upload to
  NodeId node = 0;
  std::vector<HalfId> uploads;      // halves from us to each neighbour (one per connection)
  std::vector<PeerId> upload_to;    // per upload, its receiver: a HAVE's fan-out reads no half
  std::vector<HalfId> unchoked_by;  // halves towards us whose sender unchokes us
  int unchoked = 0;                 // of `uploads`, how many we unchoke
  TimePoint joined{};
  TimePoint completed{};
  EventId rechoke_event;
  EventId fill_event;  // a pending fill_free_slots
  EventId announce_event;
  // Per piece, the swarm-wide order in which we got it (UINT32_MAX: not yet): tells whether a
  // neighbour's HAVE, handled late, came before or after our own copy.
  std::vector<std::uint32_t> got_order;
  bool present = false;
  bool done = false;
  bool free_rider = false;
  bool initial_seed = false;
  double from_seeds = 0;  // bytes received from the initial seeds (bytes sent: Swarm::uploaded)
};

// A request: one pick's worth of blocks of one piece, transferred as one flow.
struct SimRequest {
  PieceIndex piece;
  std::vector<int> blocks;
  double bytes = 0;
};

// The fields of a half that every HAVE reads, kept apart from SimHalf in one dense array (16 bytes
// per half, both halves of a connection in one cache line): a HAVE batch at 10,000 peers touches
// ~80 random halves, and the 270-byte SimHalf made each of those a cache miss of its own.
struct alignas(16) HalfState {
  // Pieces `from` has that `to` lacks: gained - filled, two counters so that the two threads of a
  // HAVE tick never write the same one (`to` counts the pieces `from` gained that it lacks, `from`
  // the ones `to` filled that it had): plain stores, no locked add stalling the HAVE's misses.
  std::int32_t gained = 0;
  std::int32_t filled = 0;
  std::int32_t missing() const { return gained - filled; }
  bool open = false;
  bool choked = true;       // `from` chokes `to`
  bool interested = false;  // `to` wants a piece `from` has
};

// One direction of a connection: `from` uploads to `to` (its hot flags are in HalfState).
struct SimHalf {
  explicit SimHalf(TimePoint now = {}, const policy::PipelineSettings& pipeline_settings = {})
      : pipeline(now, pipeline_settings) {}

  // What a rechoke reads, together (the first 32 bytes from the sender's upload half, the last 32
  // from the half towards it): a rechoke reads ~80 pairs of halves at random.
  TimePoint connected{};
  FlowId flow = kNoFlow;
  bool ever_unchoked = false;  // `from` has unchoked `to` at least once
  bool seed_counted = false;   // `from` is counted with add_seed in `to`'s picker
  double flow_credited = 0;    // bytes of the flow already handed over as finished requests
  double delivered = 0;        // bytes of finished requests
  TimePoint last_delivery{};

  PeerId from = 0;
  PeerId to = 0;
  std::vector<SimRequest> queue;  // front: the one in flight
  // How many blocks `to` keeps requested from `from`: the engine's own pipeline, told of every
  // request, block and drop (its snub timer is not run: a choke is the only silence here).
  policy::RequestPipeline pipeline;
  EventId event;                  // the flow start (after the latency) or the front's finish
  std::int64_t finish_step = -1;  // on a time grid: the step the front finishes in (-1: none)
};

// A peer's rate window towards one neighbour, kept with the peer's upload half to it: the time
// and the bytes received from / sent to the neighbour at the peer's last two rechokes ([0]: the
// last). One cache line each, apart from the 208-byte SimHalf: a rechoke reads ~80 of them.
struct alignas(64) RateWindow {
  std::array<double, 2> t{};
  std::array<double, 2> received{};
  std::array<double, 2> sent{};
};

}  // namespace starling::sim
