#include "session/hash_pairing.hpp"

#include "core/sha1_stream.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

namespace starling::session {

void HashPairing::on_written(std::shared_ptr<PartialPieces> owner, Entry& entry,
                             std::int64_t offset, const SharedBytes& data, Clock::time_point now,
                             std::vector<SharedBytes>& release) {
  const auto bytes = static_cast<std::int64_t>(data.size());
  // Bytes already hashed are not written again (only blocks still needed are), so a write
  // below `next` is left alone, as a gap is: the piece's hash then fails or reads it back.
  if (offset < entry.next) return;
  if (offset < entry.next + entry.unhashed_bytes) drop_from(entry, offset, release);
  if (offset != entry.next + entry.unhashed_bytes) return;  // a gap: read back at the end
  if (held_bytes_ + bytes > settings_.budget) {
    hash_alone(entry, release);
    entry.hasher.update(data.view());
    entry.next += bytes;
    return;
  }
  if (entry.unhashed_bytes == 0) entry.unhashed_since = now;
  entry.unhashed.push_back(data);
  entry.unhashed_bytes += bytes;
  held_bytes_ += bytes;
  if (!entry.pairing) {
    entry.pairing = true;
    held_.push_back(Held{std::move(owner), &entry, nullptr, {}});
  }
}

std::unique_ptr<HashPairing::Entry> HashPairing::finish_when_hashed(std::unique_ptr<Entry> entry,
                                                                    Finish finish) {
  if (!entry->pairing) return entry;
  auto it = std::find_if(held_.begin(), held_.end(),
                         [&](const Held& h) { return h.entry == entry.get(); });
  if (it == held_.end()) return entry;
  it->complete = std::move(entry);
  it->finish = std::move(finish);
  return nullptr;
}

std::vector<HashPairing::Entry*> HashPairing::longest_held() const {
  std::vector<Entry*> group;
  for (const Held& h : held_) {
    Entry* e = h.entry;
    if (e->unhashed_bytes == 0) continue;
    auto at = std::find_if(group.begin(), group.end(),
                           [&](const Entry* g) { return e->unhashed_since < g->unhashed_since; });
    if (at == group.end() && group.size() == Sha1Stream::kMaxLockstep) continue;
    group.insert(at, e);
    if (group.size() > Sha1Stream::kMaxLockstep) group.pop_back();
  }
  return group;
}

void HashPairing::step(Clock::time_point now, Completions& completions,
                       std::vector<SharedBytes>& release, bool all) {
  // Full groups, the pieces held longest first, as long as that many pieces have bytes held; a
  // smaller group (of two) once its oldest piece has waited max_hold for a third.
  for (;;) {
    const auto group = longest_held();
    if (group.size() < 2) break;
    if (group.size() < Sha1Stream::kMaxLockstep && !all &&
        now - group.front()->unhashed_since < settings_.max_hold) {
      break;
    }
    hash_together(group, release);
  }
  for (const Held& h : held_) {
    if (h.entry->unhashed_bytes > 0 &&
        (all || now - h.entry->unhashed_since >= settings_.max_hold)) {
      hash_alone(*h.entry, release);
    }
  }
  for (std::size_t i = 0; i < held_.size();) {
    Held& h = held_[i];
    if (h.entry->unhashed_bytes > 0) {
      ++i;
      continue;
    }
    h.entry->pairing = false;
    if (h.complete) h.finish(*h.complete, completions);
    held_[i] = std::move(held_.back());
    held_.pop_back();
  }
}

std::optional<HashPairing::Clock::time_point> HashPairing::deadline() const {
  std::optional<Clock::time_point> first;
  for (const Held& h : held_) {
    const Clock::time_point due = h.entry->unhashed_bytes > 0
                                      ? h.entry->unhashed_since + settings_.max_hold
                                      : Clock::time_point::min();  // finishes at the next step
    if (!first || due < *first) first = due;
  }
  return first;
}

void HashPairing::consume(Entry& entry, std::size_t bytes, std::vector<SharedBytes>& release) {
  entry.unhashed_front_used += bytes;
  entry.next += static_cast<std::int64_t>(bytes);
  entry.unhashed_bytes -= static_cast<std::int64_t>(bytes);
  held_bytes_ -= static_cast<std::int64_t>(bytes);
  if (entry.unhashed_front_used == entry.unhashed.front().size()) {
    release.push_back(std::move(entry.unhashed.front()));
    entry.unhashed.pop_front();
    entry.unhashed_front_used = 0;
  }
}

void HashPairing::hash_alone(Entry& entry, std::vector<SharedBytes>& release) {
  Entry* const group[] = {&entry};  // a group of one: update_together hashes it on its own
  hash_together(group, release);
}

void HashPairing::hash_together(std::span<Entry* const> group, std::vector<SharedBytes>& release) {
  std::array<Sha1Stream*, Sha1Stream::kMaxLockstep> streams{};
  std::array<std::string_view, Sha1Stream::kMaxLockstep> data{};
  const auto nonempty = [](const Entry* e) { return !e->unhashed.empty(); };
  while (std::all_of(group.begin(), group.end(), nonempty)) {
    std::size_t n = SIZE_MAX;
    for (const Entry* e : group) {
      n = std::min(n, e->unhashed.front().size() - e->unhashed_front_used);
    }
    for (std::size_t k = 0; k < group.size(); ++k) {
      streams[k] = &group[k]->hasher;
      data[k] = group[k]->unhashed.front().view().substr(group[k]->unhashed_front_used, n);
    }
    Sha1Stream::update_together(std::span(streams.data(), group.size()),
                                std::span(data.data(), group.size()));
    for (Entry* e : group) consume(*e, n, release);
  }
}

void HashPairing::drop_from(Entry& entry, std::int64_t offset, std::vector<SharedBytes>& release) {
  std::int64_t at = entry.next;  // where block i starts (its unhashed part)
  std::size_t i = 0;
  for (; i < entry.unhashed.size(); ++i) {
    const auto length = static_cast<std::int64_t>(entry.unhashed[i].size() -
                                                  (i == 0 ? entry.unhashed_front_used : 0));
    if (at + length > offset) break;
    at += length;
  }
  for (std::size_t j = i; j < entry.unhashed.size(); ++j) {
    release.push_back(std::move(entry.unhashed[j]));
  }
  entry.unhashed.resize(i);
  if (i == 0) entry.unhashed_front_used = 0;
  held_bytes_ -= entry.unhashed_bytes - (at - entry.next);
  entry.unhashed_bytes = at - entry.next;
}

}  // namespace starling::session
