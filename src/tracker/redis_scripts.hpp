// The Lua scripts RedisPeerStore runs inside Redis: each is one round trip and atomic, so the
// counts a reply carries match the swarm it describes, however many replicas write at once.
//
// Keys of one torrent (P = the prefix, H = the info-hash in 40 lowercase hex digits):
//   P:t:H:p4  sorted set: compact IPv4 peers (6 bytes), score = last announce (unix seconds)
//   P:t:H:p6  sorted set: compact IPv6 peers (18 bytes), the same
//   P:t:H:s   set: the members of p4/p6 that are seeds
//   P:t:H:d   string: `completed` events counted (the scrape's `downloaded`)
// and of the whole store:
//   P:torrents  set of H with at least one peer (the sweep walks it; its size is the torrents)
//   P:totals    hash {peers, seeds} over all torrents (for /stats and the max-peers limit)
// The per-torrent scripts get KEYS = {p4, p6, s, d, P:torrents, P:totals}; kTotals gets
// KEYS = {P:torrents, P:totals}.
#pragma once

#include <string_view>

namespace starling::tracker::redis_scripts {

// ARGV: H, member (compact bytes), family ("4"/"6"), now, event (none|completed|started|
// stopped), seed ("1"/"0"), want4, want6 (-1: every peer, for rack-aware picking; the v6 budget
// is what v4 left), max_torrents, max_peers_per_torrent, max_peers.
// Returns {0, complete, incomplete, downloaded, {peers4...}, {peers6...}} or {1} (torrent
// limit reached).
inline constexpr std::string_view kAnnounce = R"lua(
local p4, p6, seeds, dl, index, totals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local hash, member, now, event = ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5]
local seed = ARGV[6] == '1'
local own = p4
if ARGV[3] == '6' then own = p6 end
if redis.call('SISMEMBER', index, hash) == 0 then
  if event == 'stopped' then return {0, 0, 0, 0, {}, {}} end
  if redis.call('SCARD', index) >= tonumber(ARGV[9]) then return {1} end
  redis.call('SADD', index, hash)
end
local present = redis.call('ZSCORE', own, member)
local was_seed = present and redis.call('SISMEMBER', seeds, member) == 1
if event == 'stopped' then
  if present then
    redis.call('ZREM', own, member)
    redis.call('HINCRBY', totals, 'peers', -1)
    if was_seed then
      redis.call('SREM', seeds, member)
      redis.call('HINCRBY', totals, 'seeds', -1)
    end
  end
elseif not present then
  local here = redis.call('ZCARD', p4) + redis.call('ZCARD', p6)
  local all = tonumber(redis.call('HGET', totals, 'peers') or '0')
  if here < tonumber(ARGV[10]) and all < tonumber(ARGV[11]) then
    redis.call('ZADD', own, now, member)
    redis.call('HINCRBY', totals, 'peers', 1)
    if seed then
      redis.call('SADD', seeds, member)
      redis.call('HINCRBY', totals, 'seeds', 1)
    end
    if event == 'completed' then redis.call('INCR', dl) end
  end
else
  redis.call('ZADD', own, now, member)
  if seed and not was_seed then
    redis.call('SADD', seeds, member)
    redis.call('HINCRBY', totals, 'seeds', 1)
    if event == 'completed' then redis.call('INCR', dl) end
  elseif was_seed and not seed then
    redis.call('SREM', seeds, member)
    redis.call('HINCRBY', totals, 'seeds', -1)
  end
end
local complete = redis.call('SCARD', seeds)
local incomplete = redis.call('ZCARD', p4) + redis.call('ZCARD', p6) - complete
local downloaded = tonumber(redis.call('GET', dl) or '0')
local function pick(key, want)
  if want == 0 then return {} end
  local got
  if want < 0 then got = redis.call('ZRANGE', key, 0, -1)
  else got = redis.call('ZRANDMEMBER', key, want + 1) end
  local out = {}
  for _, m in ipairs(got) do
    if m ~= member and (want < 0 or #out < want) then out[#out + 1] = m end
  end
  return out
end
local peers4, peers6 = {}, {}
if event ~= 'stopped' then
  peers4 = pick(p4, tonumber(ARGV[7]))
  local want6 = tonumber(ARGV[8])
  if want6 > 0 then want6 = math.max(0, want6 - #peers4) end
  peers6 = pick(p6, want6)
end
return {0, complete, incomplete, downloaded, peers4, peers6}
)lua";

// Returns {complete, incomplete, downloaded}.
inline constexpr std::string_view kScrape = R"lua(
local complete = redis.call('SCARD', KEYS[3])
local peers = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
return {complete, peers - complete, tonumber(redis.call('GET', KEYS[4]) or '0')}
)lua";

// ARGV: H, cutoff. Drops peers last seen before the cutoff, and the torrent once it has none.
// Returns the number of peers dropped.
inline constexpr std::string_view kSweep = R"lua(
local dropped, dropped_seeds = 0, 0
local below = '(' .. ARGV[2]
for i = 1, 2 do
  local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', below)
  for _, m in ipairs(old) do
    dropped_seeds = dropped_seeds + redis.call('SREM', KEYS[3], m)
  end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', below) end
  dropped = dropped + #old
end
if dropped > 0 then redis.call('HINCRBY', KEYS[6], 'peers', -dropped) end
if dropped_seeds > 0 then redis.call('HINCRBY', KEYS[6], 'seeds', -dropped_seeds) end
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  redis.call('SREM', KEYS[5], ARGV[1])
end
return dropped
)lua";

// Returns {torrents, peers, seeds}.
inline constexpr std::string_view kTotals = R"lua(
return {redis.call('SCARD', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], 'peers') or '0'),
        tonumber(redis.call('HGET', KEYS[2], 'seeds') or '0')}
)lua";

}  // namespace starling::tracker::redis_scripts
