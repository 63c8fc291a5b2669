#include "sim/slides_model.hpp"

#include <cmath>
#include <unordered_map>

#include "sim/engine.hpp"
#include "sim/network.hpp"

namespace starling::sim {
namespace {

class SlidesRun {
 public:
  explicit SlidesRun(const SlidesSettings& settings) : settings_(settings) {
    const auto peers = static_cast<std::size_t>(settings.leechers) + 1;
    for (std::size_t i = 0; i < peers; ++i) {
      // Downlinks twice the uplink: the one upload a peer makes is the only limit.
      network_.add_node(settings.up, 2 * settings.up);
    }
    completion_.assign(static_cast<std::size_t>(settings.leechers), -1);
  }

  std::vector<double> run() {
    engine_.at(TimePoint{}, [this] { serve(0); });
    while (engine_.step()) settle();
    return completion_;
  }

 private:
  // `holder` has the file and is idle: it serves the lowest-numbered peer nobody serves yet.
  void serve(NodeId holder) {
    if (next_ > static_cast<NodeId>(settings_.leechers)) return;
    const NodeId to = next_++;
    const FlowId flow = network_.add_flow(holder, to, settings_.file_bytes, engine_.now());
    transfers_[flow] = Transfer{holder, to, {}};
  }

  void finish(FlowId flow) {
    const Transfer t = transfers_.at(flow);
    transfers_.erase(flow);
    network_.remove_flow(flow, engine_.now());
    completion_[t.to - 1] = to_seconds(engine_.now());
    serve(t.from);
    serve(t.to);
  }

  void settle() {
    for (FlowId flow : network_.settle(engine_.now())) {
      Transfer& t = transfers_.at(flow);
      const TimePoint when = network_.finish_time(flow);
      if (!engine_.reschedule(t.event, when)) {
        t.event = engine_.at(when, [this, flow] { finish(flow); });
      }
    }
  }

  struct Transfer {
    NodeId from = 0;
    NodeId to = 0;
    EventId event;
  };

  SlidesSettings settings_;
  Engine engine_;
  Network network_;
  NodeId next_ = 1;  // node 0 is the seed, leecher i is node i + 1
  std::unordered_map<FlowId, Transfer> transfers_;
  std::vector<double> completion_;
};

}  // namespace

SlidesResult run_slides_model(const SlidesSettings& settings) {
  SlidesResult result;
  if (settings.leechers < 1 || settings.file_bytes <= 0 || settings.up <= 0) return result;
  result.round_s = settings.file_bytes / settings.up;
  result.predicted_last_s =
      result.round_s * std::ceil(std::log2(static_cast<double>(settings.leechers) + 1));
  result.completion_s = SlidesRun(settings).run();
  return result;
}

}  // namespace starling::sim
