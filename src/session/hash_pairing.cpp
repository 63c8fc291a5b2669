#include "session/hash_pairing.hpp"

#include <algorithm>

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

void HashPairing::step(Clock::time_point now, Completions& completions,
                       std::vector<SharedBytes>& release, bool all) {
  // Pairs, the two pieces held longest first, as long as two pieces have bytes held.
  for (;;) {
    Entry* first = nullptr;
    Entry* second = nullptr;
    for (const Held& h : held_) {
      Entry* e = h.entry;
      if (e->unhashed_bytes == 0) continue;
      if (first == nullptr || e->unhashed_since < first->unhashed_since) {
        second = first;
        first = e;
      } else if (second == nullptr || e->unhashed_since < second->unhashed_since) {
        second = e;
      }
    }
    if (second == nullptr) break;
    hash_pair(*first, *second, release);
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
  while (!entry.unhashed.empty()) {
    const std::string_view rest = entry.unhashed.front().view().substr(entry.unhashed_front_used);
    entry.hasher.update(rest);
    consume(entry, rest.size(), release);
  }
}

void HashPairing::hash_pair(Entry& a, Entry& b, std::vector<SharedBytes>& release) {
  while (!a.unhashed.empty() && !b.unhashed.empty()) {
    const std::string_view for_a = a.unhashed.front().view().substr(a.unhashed_front_used);
    const std::string_view for_b = b.unhashed.front().view().substr(b.unhashed_front_used);
    const std::size_t n = std::min(for_a.size(), for_b.size());
    Sha1Stream::update_both(a.hasher, for_a.substr(0, n), b.hasher, for_b.substr(0, n));
    consume(a, n, release);
    consume(b, n, release);
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
