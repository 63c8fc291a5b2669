// The peer store in Redis, shared by several tracker replicas (`starling tracker --store
// redis://...`): any replica answers any peer with the whole swarm, and a replica that dies
// takes nothing with it. Each announce, scrape and per-torrent sweep step is one Lua script
// (redis_scripts.hpp, which also documents the keys), so it costs one round trip and its counts
// are consistent.
//
// Connections: a small pool (one per thread that is using the store at the same moment), each
// with connect and command timeouts, so a slow or dead Redis costs an announce at most the
// timeout. A broken connection empties the pool; reconnecting backs off (doubling from
// backoff_min to backoff_max), and while it waits, calls fail at once: announces get
// AnnounceStatus::unavailable (a "failure reason" for the client), never a hang or a crash.
//
// Time: `now` is stored as the peers' score, so every replica must pass the same clock (the
// server passes unix seconds when the store is shared, see ServerOptions::wall_clock).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "tracker/redis_url.hpp"
#include "tracker/swarm_store.hpp"

struct redisContext;
struct redisReply;

namespace starling::tracker {

struct RedisTimeouts {
  std::chrono::milliseconds connect{1000};
  std::chrono::milliseconds command{1000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

class RedisPeerStore final : public SwarmStore {
 public:
  // Connects once (so a wrong URL or a Redis that is not there is reported at start) and loads
  // the scripts.
  static Expected<std::unique_ptr<RedisPeerStore>> open(const RedisUrl& url, PeerStoreLimits limits,
                                                        RedisTimeouts timeouts = {});
  ~RedisPeerStore() override;

  AnnounceStatus announce(const StoreAnnounce& request, Seconds now, SwarmCounts& counts,
                          std::string& peers4, std::string& peers6) override;
  Expected<SwarmCounts> scrape(const Sha1Digest& info_hash) const override;
  // Walks P:torrents in batches (SSCAN), one pipelined script call per torrent.
  std::size_t sweep(Seconds now) override;
  // Zeros when Redis cannot be asked.
  StoreTotals totals() const override;

  const RedisUrl& url() const { return url_; }
  // The last connection or command error, "" when none (for logs).
  std::string last_error() const;
  // Called (on the thread that noticed) when Redis stops answering (false, why) and when a
  // connection works again (true, ""), once per change. Set before serving.
  void on_state_change(std::function<void(bool available, const std::string& detail)> callback);

 private:
  struct Script {
    std::string_view body;
    std::string sha;  // SHA-1 hex, as EVALSHA wants it
  };
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

  RedisPeerStore(RedisUrl url, PeerStoreLimits limits, RedisTimeouts timeouts);
  Expected<Context> connect() const;
  // A connection from the pool or a new one; an error while backing off or on failure.
  Expected<Context> acquire() const;
  void release(Context context) const;
  // Records a failure; a broken connection also drops the idle ones (they are likely broken).
  Error fail(std::string what, bool broken) const;
  // Runs one script on a pooled connection: EVALSHA, then EVAL if Redis lost its script cache.
  Expected<Reply> run(const Script& script, std::span<const std::string> keys,
                      std::span<const std::string> args) const;

  std::string torrent_key(const Sha1Digest& info_hash) const;  // "P:t:H:"

  RedisUrl url_;
  RedisTimeouts timeouts_;
  Script announce_;
  Script scrape_;
  Script sweep_;
  Script totals_;
  std::string index_key_;
  std::string totals_key_;

  mutable std::mutex mutex_;
  mutable std::vector<Context> idle_;
  mutable std::chrono::steady_clock::time_point retry_at_{};
  mutable std::chrono::milliseconds backoff_{0};
  mutable std::string last_error_;
  mutable bool down_ = false;
  std::function<void(bool, const std::string&)> on_state_;
};

}  // namespace starling::tracker
