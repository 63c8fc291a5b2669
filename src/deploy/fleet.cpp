#include "deploy/fleet.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "deploy/summary.hpp"

namespace starling::deploy {
namespace {

// The agent's {"error": "..."} message, or the start of the body.
std::string error_message(int http_status, const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  std::string text = body.substr(0, 200);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string()) {
    text = j["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(http_status) + ": " + text;
}

}  // namespace

std::string_view to_string(HostPhase phase) {
  switch (phase) {
    case HostPhase::submitting:
      return "submitting";
    case HostPhase::running:
      return "running";
    case HostPhase::delivered:
      return "verified";
    case HostPhase::failed:
      return "failed";
    case HostPhase::down:
      return "down";
  }
  return "?";
}

TrafficSplit split_traffic(const std::vector<HostView>& hosts,
                           const std::map<std::string, std::string>& rack_by_address,
                           const std::string& origin_address) {
  TrafficSplit split;
  for (const auto& h : hosts) {
    for (const auto& [address, bytes] : h.last.progress.downloaded_from) {
      if (address == origin_address) {
        split.from_origin += bytes;
        continue;
      }
      const auto it = rack_by_address.find(address);
      const bool same =
          !h.entry.rack.empty() && it != rack_by_address.end() && it->second == h.entry.rack;
      (same ? split.same_rack : split.cross_rack) += bytes;
    }
  }
  return split;
}

Fleet::Fleet(std::vector<HostEntry> hosts, double start_unix, FleetSettings settings)
    : start_unix_(start_unix), settings_(settings) {
  for (auto& entry : hosts) {
    HostView view;
    view.entry = std::move(entry);
    hosts_.push_back(std::move(view));
  }
}

void Fleet::take_status(HostView& h, const JobStatus& status, double now) {
  h.last = status;
  h.have_status = true;
  h.last_answer = now;
  if (status.delivered()) {
    h.phase = HostPhase::delivered;
    // The agent's own clock stamps verification more finely than our polling; use it when it
    // is consistent with what we saw (same clock within a second), else our observation.
    const double by_agent = status.verified_at - start_unix_;
    h.seconds = by_agent >= 0 && by_agent <= now + 1 ? by_agent : now;
  } else if (status.state == JobState::failed) {
    h.phase = HostPhase::failed;
    h.reason = status.reason.empty() ? "failed" : status.reason;
  } else {
    h.phase = HostPhase::running;
  }
}

void Fleet::submitted(std::size_t host, int http_status, const std::string& body, double now) {
  HostView& h = hosts_.at(host);
  if (h.phase != HostPhase::submitting) return;
  if (http_status != 200 && http_status != 201) {
    h.phase = HostPhase::failed;
    h.reason = "job refused: " + error_message(http_status, body);
    return;
  }
  auto status = status_from_json(body);
  if (!status) {
    h.phase = HostPhase::failed;
    h.reason = "unreadable answer: " + status.error().message();
    return;
  }
  take_status(h, *status, now);
}

void Fleet::submit_failed(std::size_t host, const std::string& why, double now) {
  HostView& h = hosts_.at(host);
  if (h.phase != HostPhase::submitting) return;
  h.phase = HostPhase::down;
  h.reason = "agent unreachable: " + why;
  h.last_answer = now;
}

void Fleet::polled(std::size_t host, int http_status, const std::string& body, double now) {
  HostView& h = hosts_.at(host);
  if (h.phase != HostPhase::running) return;
  if (http_status != 200) {
    // The agent answers but has lost the job (its state was wiped): a failure, not a glitch.
    h.phase = HostPhase::failed;
    h.reason = "status query: " + error_message(http_status, body);
    return;
  }
  auto status = status_from_json(body);
  if (!status) return poll_failed(host, status.error().message(), now);
  take_status(h, *status, now);
}

void Fleet::poll_failed(std::size_t host, const std::string& why, double now) {
  HostView& h = hosts_.at(host);
  if (h.phase != HostPhase::running) return;
  if (now - h.last_answer >= settings_.unreachable_after) {
    h.phase = HostPhase::failed;
    h.reason = "agent stopped answering for " +
               std::to_string(static_cast<int>(now - h.last_answer)) + " s (" + why + ")";
  }
}

bool Fleet::finished() const {
  return std::all_of(hosts_.begin(), hosts_.end(), [](const HostView& h) {
    return h.phase == HostPhase::delivered || h.phase == HostPhase::failed ||
           h.phase == HostPhase::down;
  });
}

FleetSummary Fleet::summary() const {
  FleetSummary s;
  s.hosts = static_cast<int>(hosts_.size());
  for (const auto& h : hosts_) {
    if (h.phase == HostPhase::delivered) {
      ++s.delivered;
      s.seconds.push_back(h.seconds);
    } else {
      s.not_delivered.push_back(&h);
    }
  }
  s.p50 = percentile(s.seconds, 50);
  s.p99 = percentile(s.seconds, 99);
  s.max = s.seconds.empty() ? 0 : *std::max_element(s.seconds.begin(), s.seconds.end());
  return s;
}

}  // namespace starling::deploy
