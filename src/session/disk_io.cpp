#include "session/disk_io.hpp"

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <cstring>

namespace starling::session {
namespace {

// Reading back for a hash goes in chunks of this size, so a large piece needs no large buffer.
constexpr std::int64_t kHashChunk = 256 << 10;
// A worker takes at most this many queued jobs at a time and then posts their completions
// together: fewer wake-ups of the network thread, while early completions are not held long.
constexpr std::size_t kJobsPerBatch = 16;

// Feeds bytes [from, size) of the piece, read from disk, to `hasher`.
Status hash_from_disk(FileStore& store, PieceIndex piece, std::int64_t from, Sha1Stream& hasher) {
  const std::int64_t size = store.layout().piece_size(piece);
  if (from >= size) return ok();
  std::string buffer(static_cast<std::size_t>(std::min(size - from, kHashChunk)), '\0');
  for (std::int64_t at = from; at < size; at += kHashChunk) {
    const auto n = static_cast<std::size_t>(std::min(kHashChunk, size - at));
    if (Status s = store.read(piece, at, std::span<char>(buffer.data(), n)); !s) return s;
    hasher.update(std::string_view(buffer.data(), n));
  }
  return ok();
}

}  // namespace

DiskIo::DiskIo(boost::asio::io_context& io, DiskIoSettings settings)
    : io_(io),
      settings_(settings),
      staging_(std::make_shared<StagingPool>(settings.staging_budget)) {
  // Without the SHA extensions two streams go no faster than one: hash as written.
  if (!Sha1Stream::accelerated()) settings_.pairing.budget = 0;
  for (int i = 0; i < std::max(settings_.threads, 1); ++i) {
    auto worker = std::make_unique<Worker>(settings_.pairing);
    worker->thread = std::thread([this, w = worker.get()] { run(*w); });
    workers_.push_back(std::move(worker));
  }
  held_.resize(workers_.size());
}

DiskIo::~DiskIo() {
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mutex);
      w->stopping = true;
    }
    w->wake.notify_all();
  }
  for (auto& w : workers_) w->thread.join();
}

void DiskIo::submit(PieceIndex piece, Job job) {
  const std::size_t index = static_cast<std::size_t>(piece.value()) % workers_.size();
  if (batch_depth_ > 0) {
    held_[index].push_back(std::move(job));
    return;
  }
  Worker& w = *workers_[index];
  {
    std::lock_guard lock(w.mutex);
    w.jobs.push_back(std::move(job));
  }
  w.wake.notify_one();
}

void DiskIo::release_held() {
  for (std::size_t i = 0; i < held_.size(); ++i) {
    if (held_[i].empty()) continue;
    Worker& w = *workers_[i];
    {
      std::lock_guard lock(w.mutex);
      for (Job& job : held_[i]) w.jobs.push_back(std::move(job));
    }
    held_[i].clear();
    w.wake.notify_one();
  }
}

void DiskIo::run(Worker& w) {
  std::vector<Job> batch;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(w.mutex);
      const auto ready = [&] { return w.stopping || !w.jobs.empty(); };
      // Held blocks are hashed alone when no partner has come by their deadline.
      if (const auto deadline = w.pairing.deadline()) {
        w.wake.wait_until(lock, *deadline, ready);
      } else {
        w.wake.wait(lock, ready);
      }
      stop = w.stopping && w.jobs.empty();  // and everything queued is done
      const std::size_t n = std::min(w.jobs.size(), kJobsPerBatch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(w.jobs.front()));
        w.jobs.pop_front();
      }
    }
    Completions completions;
    std::vector<SharedBytes> release;
    JobContext context{completions, w.pairing, release};
    for (Job& job : batch) job(context);
    batch.clear();
    w.pairing.step(std::chrono::steady_clock::now(), completions, release, stop);
    if (!release.empty()) {
      // The buffers go back to the network thread, which allocated them, to be freed there.
      completions.push_back([blocks = std::move(release)]() mutable { blocks.clear(); });
    }
    // One hand-off to the network thread per batch, not per job.
    if (!completions.empty()) {
      boost::asio::post(io_, [handlers = std::move(completions)]() mutable {
        for (auto& handler : handlers) handler();
      });
    }
    if (stop) return;
  }
}

template <class T>
void DiskIo::complete(Completions& completions, std::function<void(T)> done, T result) {
  completions.push_back(
      [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

void DiskIo::async_read(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                        std::int64_t length, std::function<void(Expected<std::string>)> done) {
  submit(piece, [store = std::move(store), piece, offset, length,
                 done = std::move(done)](JobContext& context) mutable {
    std::string data(static_cast<std::size_t>(length), '\0');
    Status s = store->read(piece, offset, std::span<char>(data.data(), data.size()));
    complete<Expected<std::string>>(
        context.completions, std::move(done),
        s ? Expected<std::string>(std::move(data)) : Expected<std::string>(s.error()));
  });
}

void DiskIo::async_write(std::shared_ptr<FileStore> store, std::shared_ptr<PartialPieces> pieces,
                         PieceIndex piece, std::int64_t offset, SharedBytes data,
                         std::function<void(Status)> done) {
  const auto bytes = static_cast<std::int64_t>(data.size());
  queued_write_bytes_ += bytes;
  submit(piece, [this, store = std::move(store), pieces = std::move(pieces), piece, offset, bytes,
                 data = std::move(data), done = std::move(done)](JobContext& context) mutable {
    Status s = ok();
    PartialPieces::Entry* entry = nullptr;
    if (pieces) {
      bool created = false;
      entry = &pieces->at(piece, &created);
      if (created && store->direct_io()) {
        entry->staged = staging_->acquire(store->layout().piece_size(piece));
      }
    }
    const std::span<char> staged =
        entry && entry->staged ? entry->staged->bytes() : std::span<char>();
    if (!staged.empty() && offset >= 0 &&
        offset + bytes <= static_cast<std::int64_t>(staged.size())) {
      std::memcpy(staged.data() + offset, data.view().data(), static_cast<std::size_t>(bytes));
    } else if (!staged.empty()) {
      s = Error(Errc::invalid_argument, "block outside piece " + std::to_string(piece.value()));
    } else {
      s = store->write(piece, offset, data.view());
      if (s && entry) {
        context.pairing.on_written(pieces, *entry, offset, data, std::chrono::steady_clock::now(),
                                   context.release);
      }
    }
    // The buffer goes back to the network thread, which allocated it, to be freed there.
    context.completions.push_back(
        [this, bytes, data = std::move(data), done = std::move(done), s = std::move(s)]() mutable {
          queued_write_bytes_ -= bytes;
          data.reset();
          done(std::move(s));
        });
  });
}

void DiskIo::async_hash(std::shared_ptr<FileStore> store, std::shared_ptr<PartialPieces> pieces,
                        PieceIndex piece, std::function<void(Expected<Sha1Digest>)> done) {
  const std::int64_t bytes = store->layout().piece_size(piece);
  queued_write_bytes_ += bytes;
  done = [this, bytes, done = std::move(done)](Expected<Sha1Digest> digest) {
    queued_write_bytes_ -= bytes;
    done(std::move(digest));
  };
  submit(piece, [store = std::move(store), pieces = std::move(pieces), piece,
                 done = std::move(done)](JobContext& context) mutable {
    auto entry = pieces ? pieces->take(piece) : nullptr;
    if (!entry) entry = std::make_unique<PartialPieces::Entry>();
    if (entry->staged) {
      // Written whatever the hash says: after a failure the bad copy is read back block by block
      // to tell which peer sent the bad data.
      const std::span<char> staged = entry->staged->bytes();
      entry->hasher.update(std::string_view(staged.data(), staged.size()));
      const Status s = store->write_piece(piece, staged);
      complete<Expected<Sha1Digest>>(
          context.completions, std::move(done),
          s ? Expected<Sha1Digest>(entry->hasher.finish()) : Expected<Sha1Digest>(s.error()));
      return;
    }
    // The part not hashed yet as it was written is read back.
    auto finish = [store, piece, done = std::move(done)](PartialPieces::Entry& e,
                                                         Completions& completions) mutable {
      const Status s = hash_from_disk(*store, piece, e.next, e.hasher);
      complete<Expected<Sha1Digest>>(
          completions, std::move(done),
          s ? Expected<Sha1Digest>(e.hasher.finish()) : Expected<Sha1Digest>(s.error()));
    };
    entry = context.pairing.finish_when_hashed(std::move(entry), finish);
    if (entry) finish(*entry, context.completions);
  });
}

void DiskIo::async_run(std::function<Status()> job, std::function<void(Status)> done) {
  submit(PieceIndex(0),
         [job = std::move(job), done = std::move(done)](JobContext& context) mutable {
           complete<Status>(context.completions, std::move(done), job());
         });
}

void DiskIo::async_hash_blocks(std::shared_ptr<FileStore> store, PieceIndex piece,
                               std::int64_t block_size,
                               std::function<void(Expected<std::vector<Sha1Digest>>)> done) {
  submit(piece, [store = std::move(store), piece, block_size,
                 done = std::move(done)](JobContext& context) mutable {
    const std::int64_t size = store->layout().piece_size(piece);
    std::string buffer(static_cast<std::size_t>(std::min(size, block_size)), '\0');
    std::vector<Sha1Digest> digests;
    Status s = ok();
    for (std::int64_t at = 0; at < size && s; at += block_size) {
      const auto n = static_cast<std::size_t>(std::min(block_size, size - at));
      s = store->read(piece, at, std::span<char>(buffer.data(), n));
      if (s) digests.push_back(sha1(std::string_view(buffer.data(), n)));
    }
    complete<Expected<std::vector<Sha1Digest>>>(
        context.completions, std::move(done),
        s ? Expected<std::vector<Sha1Digest>>(std::move(digests))
          : Expected<std::vector<Sha1Digest>>(s.error()));
  });
}

}  // namespace starling::session
