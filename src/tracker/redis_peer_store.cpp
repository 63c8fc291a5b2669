#include "tracker/redis_peer_store.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>

#include "tracker/redis_scripts.hpp"

namespace starling::tracker {
namespace {

using Clock = std::chrono::steady_clock;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>(ms.count() % 1000 * 1000);
  return tv;
}

// hiredis writes with write(2): a Redis that has gone would raise SIGPIPE and end the tracker.
// Ignore it, unless the program installed a handler of its own.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
}

// argv for hiredis: pointers and lengths, so binary strings (compact peers) pass unchanged.
class Argv {
 public:
  void add(std::string_view s) {
    pointers_.push_back(s.data());
    lengths_.push_back(s.size());
  }
  int count() const { return static_cast<int>(pointers_.size()); }
  const char** pointers() { return pointers_.data(); }
  const std::size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> pointers_;
  std::vector<std::size_t> lengths_;
};

Argv eval_argv(std::string_view command, std::string_view script, const std::string& key_count,
               std::span<const std::string> keys, std::span<const std::string> args) {
  Argv argv;
  argv.add(command);
  argv.add(script);
  argv.add(key_count);
  for (const auto& k : keys) argv.add(k);
  for (const auto& a : args) argv.add(a);
  return argv;
}

std::string_view text_of(const redisReply* r) {
  return {r->str, r->len};
}

bool is_integer(const redisReply* r) {
  return r->type == REDIS_REPLY_INTEGER;
}

std::uint32_t count_of(const redisReply* r) {
  return static_cast<std::uint32_t>(std::clamp<long long>(r->integer, 0, 0xffffffffLL));
}

// Appends the compact peers of a reply array, skipping anything of the wrong size.
bool append_members(const redisReply* array, std::size_t size, std::string& out) {
  if (array->type != REDIS_REPLY_ARRAY) return false;
  for (std::size_t i = 0; i < array->elements; ++i) {
    const redisReply* m = array->element[i];
    if (m->type == REDIS_REPLY_STRING && m->len == size) out.append(m->str, m->len);
  }
  return true;
}

}  // namespace

void RedisPeerStore::ContextDeleter::operator()(redisContext* c) const {
  redisFree(c);
}
void RedisPeerStore::ReplyDeleter::operator()(redisReply* r) const {
  freeReplyObject(r);
}

RedisPeerStore::RedisPeerStore(RedisUrl url, PeerStoreLimits limits, RedisTimeouts timeouts)
    : SwarmStore(limits),
      url_(std::move(url)),
      timeouts_(timeouts),
      announce_{redis_scripts::kAnnounce, sha1(redis_scripts::kAnnounce).hex()},
      scrape_{redis_scripts::kScrape, sha1(redis_scripts::kScrape).hex()},
      sweep_{redis_scripts::kSweep, sha1(redis_scripts::kSweep).hex()},
      totals_{redis_scripts::kTotals, sha1(redis_scripts::kTotals).hex()},
      index_key_(url_.prefix + ":torrents"),
      totals_key_(url_.prefix + ":totals") {
  ignore_sigpipe();
}

RedisPeerStore::~RedisPeerStore() = default;

Expected<std::unique_ptr<RedisPeerStore>> RedisPeerStore::open(const RedisUrl& url,
                                                               PeerStoreLimits limits,
                                                               RedisTimeouts timeouts) {
  std::unique_ptr<RedisPeerStore> store(new RedisPeerStore(url, limits, timeouts));
  auto context = store->connect();
  if (!context) return context.error();
  // ZRANDMEMBER (the random peers) came with Redis 6.2: say so now rather than per announce.
  const std::array<const char*, 3> probe = {"ZRANDMEMBER", "starling-probe", "1"};
  const std::array<std::size_t, 3> probe_lengths = {11, 14, 1};
  Reply reply(static_cast<redisReply*>(redisCommandArgv(
      context->get(), 3, const_cast<const char**>(probe.data()), probe_lengths.data())));
  if (!reply) {
    return Error(Errc::io_error, fmt::format("redis {}: {}", url.text(), (*context)->errstr));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return Error(Errc::invalid_argument,
                 fmt::format("redis {}: needs Redis 6.2 or later (ZRANDMEMBER): {}", url.text(),
                             text_of(reply.get())));
  }
  store->release(std::move(*context));
  return store;
}

Expected<RedisPeerStore::Context> RedisPeerStore::connect() const {
  Context context(
      redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(timeouts_.connect)));
  if (!context) return Error(Errc::io_error, fmt::format("redis {}: out of memory", url_.text()));
  if (context->err != 0) {
    return Error(Errc::io_error, fmt::format("redis {}: {}", url_.text(), context->errstr));
  }
  redisSetTimeout(context.get(), to_timeval(timeouts_.command));
  if (url_.db != 0) {
    const std::string db = std::to_string(url_.db);
    const std::array<const char*, 2> argv = {"SELECT", db.c_str()};
    const std::array<std::size_t, 2> lengths = {6, db.size()};
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context.get(), 2, const_cast<const char**>(argv.data()), lengths.data())));
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return Error(Errc::io_error,
                   fmt::format("redis {}: SELECT {}: {}", url_.text(), db,
                               reply ? text_of(reply.get()) : std::string_view(context->errstr)));
    }
  }
  return context;
}

Expected<RedisPeerStore::Context> RedisPeerStore::acquire() const {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Context context = std::move(idle_.back());
      idle_.pop_back();
      return context;
    }
    if (Clock::now() < retry_at_) {
      return Error(Errc::io_error, fmt::format("redis {}: unavailable ({}); retrying later",
                                               url_.text(), last_error_));
    }
  }
  auto context = connect();  // outside the lock: other threads fail fast or use idle ones
  bool changed = false;
  {
    const std::lock_guard lock(mutex_);
    if (!context) {
      backoff_ = std::clamp(backoff_ * 2, timeouts_.backoff_min, timeouts_.backoff_max);
      retry_at_ = Clock::now() + backoff_;
      last_error_ = context.error().detail;
      changed = !down_;
      down_ = true;
    } else {
      backoff_ = std::chrono::milliseconds(0);
      changed = down_;
      down_ = false;
    }
  }
  if (changed && on_state_) on_state_(context.has_value(), context ? "" : context.error().detail);
  return context;
}

void RedisPeerStore::on_state_change(std::function<void(bool, const std::string&)> callback) {
  on_state_ = std::move(callback);
}

void RedisPeerStore::release(Context context) const {
  const std::lock_guard lock(mutex_);
  idle_.push_back(std::move(context));
}

Error RedisPeerStore::fail(std::string what, bool broken) const {
  bool changed = false;
  {
    const std::lock_guard lock(mutex_);
    last_error_ = what;
    if (broken) {
      idle_.clear();
      changed = !down_;
      down_ = true;
    }
  }
  if (changed && on_state_) on_state_(false, what);
  return Error(Errc::io_error, std::move(what));
}

std::string RedisPeerStore::last_error() const {
  const std::lock_guard lock(mutex_);
  return last_error_;
}

std::string RedisPeerStore::torrent_key(const Sha1Digest& info_hash) const {
  return url_.prefix + ":t:" + info_hash.hex() + ":";
}

Expected<RedisPeerStore::Reply> RedisPeerStore::run(const Script& script,
                                                    std::span<const std::string> keys,
                                                    std::span<const std::string> args) const {
  auto context = acquire();
  if (!context) return context.error();
  redisContext* c = context->get();
  const std::string key_count = std::to_string(keys.size());
  Argv argv = eval_argv("EVALSHA", script.sha, key_count, keys, args);
  Reply reply(
      static_cast<redisReply*>(redisCommandArgv(c, argv.count(), argv.pointers(), argv.lengths())));
  if (reply && reply->type == REDIS_REPLY_ERROR && text_of(reply.get()).starts_with("NOSCRIPT")) {
    // Redis restarted (or flushed its scripts): send the body, which caches it again.
    argv = eval_argv("EVAL", script.body, key_count, keys, args);
    reply.reset(static_cast<redisReply*>(
        redisCommandArgv(c, argv.count(), argv.pointers(), argv.lengths())));
  }
  if (!reply) return fail(fmt::format("redis {}: {}", url_.text(), c->errstr), true);
  if (reply->type == REDIS_REPLY_ERROR) {
    Error error = fail(fmt::format("redis {}: {}", url_.text(), text_of(reply.get())), false);
    release(std::move(*context));
    return error;
  }
  release(std::move(*context));
  return reply;
}

AnnounceStatus RedisPeerStore::announce(const StoreAnnounce& request, Seconds now,
                                        SwarmCounts& counts, std::string& peers4,
                                        std::string& peers6) {
  if (!allowed(request.info_hash)) return AnnounceStatus::not_allowed;
  const std::string base = torrent_key(request.info_hash);
  const std::array<std::string, 6> keys = {base + "p4", base + "p6", base + "s",
                                           base + "d",  index_key_,  totals_key_};
  std::string member;
  append_compact(member, request.peer);
  const std::string_view rack = rack_of(request.peer.ip);
  const std::size_t want = wanted(request.numwant);
  // Rack-aware answers pick from every peer (as the in-memory store does).
  const std::string all = rack.empty() ? std::to_string(want) : "-1";
  const std::array<std::string, 11> args = {
      request.info_hash.hex(),
      member,
      request.peer.ip.v6 ? "6" : "4",
      std::to_string(now.count()),
      request.event == AnnounceEvent::none ? "none" : std::string(event_name(request.event)),
      request.seed ? "1" : "0",
      request.want_v4 ? all : "0",
      request.want_v6 ? all : "0",
      std::to_string(limits_.max_torrents),
      std::to_string(limits_.max_peers_per_torrent),
      std::to_string(limits_.max_peers)};
  auto reply = run(announce_, keys, args);
  if (!reply) return AnnounceStatus::unavailable;
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !is_integer(r->element[0])) {
    fail(fmt::format("redis {}: unexpected reply to the announce script", url_.text()), false);
    return AnnounceStatus::unavailable;
  }
  if (r->element[0]->integer == 1) return AnnounceStatus::torrent_limit;
  if (r->elements != 6 || !is_integer(r->element[1]) || !is_integer(r->element[2]) ||
      !is_integer(r->element[3])) {
    fail(fmt::format("redis {}: unexpected reply to the announce script", url_.text()), false);
    return AnnounceStatus::unavailable;
  }
  counts.complete = count_of(r->element[1]);
  counts.incomplete = count_of(r->element[2]);
  counts.downloaded = count_of(r->element[3]);
  if (rack.empty()) {
    append_members(r->element[4], kCompactV4Size, peers4);
    append_members(r->element[5], kCompactV6Size, peers6);
    return AnnounceStatus::ok;
  }
  std::string candidates;
  append_members(r->element[4], kCompactV4Size, candidates);
  const std::size_t before = peers4.size();
  pick_by_rack(candidates, kCompactV4Size, rack, racks(), want, locality(), peers4);
  const std::size_t from_v4 = (peers4.size() - before) / kCompactV4Size;
  candidates.clear();
  append_members(r->element[5], kCompactV6Size, candidates);
  pick_by_rack(candidates, kCompactV6Size, rack, racks(), want - from_v4, locality(), peers6);
  return AnnounceStatus::ok;
}

Expected<SwarmCounts> RedisPeerStore::scrape(const Sha1Digest& info_hash) const {
  const std::string base = torrent_key(info_hash);
  const std::array<std::string, 6> keys = {base + "p4", base + "p6", base + "s",
                                           base + "d",  index_key_,  totals_key_};
  auto reply = run(scrape_, keys, {});
  if (!reply) return reply.error();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !is_integer(r->element[0]) ||
      !is_integer(r->element[1]) || !is_integer(r->element[2])) {
    return fail(fmt::format("redis {}: unexpected reply to the scrape script", url_.text()), false);
  }
  return SwarmCounts{count_of(r->element[0]), count_of(r->element[1]), count_of(r->element[2])};
}

std::size_t RedisPeerStore::sweep(Seconds now) {
  const std::int64_t cut = now.count() - limits_.peer_timeout.count();
  if (cut <= 0) return 0;
  const std::string cutoff = std::to_string(cut);
  auto context = acquire();
  if (!context) return 0;
  redisContext* c = context->get();
  // Pipelined EVALSHAs cannot fall back to EVAL one by one: load the script first (Redis may
  // have restarted since we last used it).
  const std::array<const char*, 3> load = {"SCRIPT", "LOAD", sweep_.body.data()};
  const std::array<std::size_t, 3> load_lengths = {6, 4, sweep_.body.size()};
  Reply loaded(static_cast<redisReply*>(
      redisCommandArgv(c, 3, const_cast<const char**>(load.data()), load_lengths.data())));
  if (!loaded || loaded->type == REDIS_REPLY_ERROR) {
    fail(fmt::format("redis {}: sweep: {}", url_.text(),
                     loaded ? text_of(loaded.get()) : std::string_view(c->errstr)),
         !loaded);
    if (loaded) release(std::move(*context));
    return 0;
  }
  std::size_t dropped = 0;
  std::string cursor = "0";
  const std::string key_count = "6";
  do {
    // A batch of torrents, then one pipelined script call for each.
    const std::array<const char*, 5> scan = {"SSCAN", index_key_.c_str(), cursor.c_str(), "COUNT",
                                             "256"};
    const std::array<std::size_t, 5> scan_lengths = {5, index_key_.size(), cursor.size(), 5, 3};
    Reply page(static_cast<redisReply*>(
        redisCommandArgv(c, 5, const_cast<const char**>(scan.data()), scan_lengths.data())));
    if (!page) {
      fail(fmt::format("redis {}: sweep: {}", url_.text(), c->errstr), true);
      return dropped;
    }
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2 ||
        page->element[0]->type != REDIS_REPLY_STRING ||
        page->element[1]->type != REDIS_REPLY_ARRAY) {
      fail(fmt::format("redis {}: sweep: unexpected SSCAN reply", url_.text()), false);
      release(std::move(*context));
      return dropped;
    }
    cursor = std::string(text_of(page->element[0]));
    const redisReply* hashes = page->element[1];
    std::vector<std::array<std::string, 6>> keys;
    std::vector<std::array<std::string, 2>> args;
    for (std::size_t i = 0; i < hashes->elements; ++i) {
      const std::string hash(text_of(hashes->element[i]));
      const std::string base = url_.prefix + ":t:" + hash + ":";
      keys.push_back({base + "p4", base + "p6", base + "s", base + "d", index_key_, totals_key_});
      args.push_back({hash, cutoff});
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      Argv argv = eval_argv("EVALSHA", sweep_.sha, key_count, keys[i], args[i]);
      redisAppendCommandArgv(c, argv.count(), argv.pointers(), argv.lengths());
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) {
        fail(fmt::format("redis {}: sweep: {}", url_.text(), c->errstr), true);
        return dropped;
      }
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_INTEGER) dropped += static_cast<std::size_t>(reply->integer);
    }
  } while (cursor != "0");
  release(std::move(*context));
  return dropped;
}

StoreTotals RedisPeerStore::totals() const {
  const std::array<std::string, 2> keys = {index_key_, totals_key_};
  auto reply = run(totals_, keys, {});
  if (!reply) return {};
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !is_integer(r->element[0]) ||
      !is_integer(r->element[1]) || !is_integer(r->element[2])) {
    return {};
  }
  StoreTotals t;
  t.torrents = count_of(r->element[0]);
  t.peers = count_of(r->element[1]);
  t.seeds = count_of(r->element[2]);
  return t;
}

}  // namespace starling::tracker
