// What `deploy` knows about each host while it runs: the job was accepted or refused, the
// agent's latest status, whether the agent stopped answering. Sans-IO: the caller sends the
// requests and feeds the answers in with the time; the Fleet says who is finished and builds
// the final report (per-host times, percentiles, failures).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "deploy/hosts_file.hpp"
#include "deploy/job_state.hpp"

namespace starling::deploy {

enum class HostPhase { submitting, running, delivered, failed, down };
std::string_view to_string(HostPhase phase);

struct HostView {
  HostEntry entry;
  HostPhase phase = HostPhase::submitting;
  JobStatus last;  // the agent's latest status
  bool have_status = false;
  std::string reason;      // failed / down: why
  double seconds = 0;      // delivered: seconds from the deploy's start to verification
  double last_answer = 0;  // deploy clock: the agent's latest answer
};

struct FleetSettings {
  double unreachable_after = 15;  // seconds without an answer before a running host is failed
};

struct FleetSummary {
  int hosts = 0;
  int delivered = 0;
  std::vector<double> seconds;  // per delivered host
  double p50 = 0;
  double p99 = 0;
  double max = 0;
  std::vector<const HostView*> not_delivered;
};

// Where the hosts' bytes came from, by the agents' per-peer counts: the origin, a peer in the
// same rack, a peer in another rack (or with no rack).
struct TrafficSplit {
  std::int64_t from_origin = 0;
  std::int64_t same_rack = 0;
  std::int64_t cross_rack = 0;
};
TrafficSplit split_traffic(const std::vector<HostView>& hosts,
                           const std::map<std::string, std::string>& rack_by_address,
                           const std::string& origin_address);

class Fleet {
 public:
  // `start_unix`: the deploy's start on the wall clock, to turn an agent's verified_at into a
  // completion time. Deploy-clock times (`now`) are seconds since that start.
  Fleet(std::vector<HostEntry> hosts, double start_unix, FleetSettings settings = {});

  // The POST answer: 200/201 with a status, or an HTTP error with the agent's message.
  void submitted(std::size_t host, int http_status, const std::string& body, double now);
  // No answer at all (connection refused, timeout).
  void submit_failed(std::size_t host, const std::string& why, double now);
  void polled(std::size_t host, int http_status, const std::string& body, double now);
  void poll_failed(std::size_t host, const std::string& why, double now);

  bool finished() const;
  bool needs_poll(std::size_t host) const { return hosts_[host].phase == HostPhase::running; }
  const std::vector<HostView>& hosts() const { return hosts_; }
  FleetSummary summary() const;

 private:
  void take_status(HostView& h, const JobStatus& status, double now);

  std::vector<HostView> hosts_;
  double start_unix_;
  FleetSettings settings_;
};

}  // namespace starling::deploy
