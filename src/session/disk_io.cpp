#include "session/disk_io.hpp"

#include <boost/asio/post.hpp>

namespace starling::session {
namespace {

// Hashing reads the piece in chunks of this size, so a large piece does not need a large buffer.
constexpr std::int64_t kHashChunk = 256 << 10;

}  // namespace

DiskIo::DiskIo(boost::asio::io_context& io, int threads) : io_(io) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { worker(); });
}

DiskIo::~DiskIo() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void DiskIo::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void DiskIo::worker() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void DiskIo::async_read(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                        std::int64_t length, std::function<void(Expected<std::string>)> done) {
  submit([this, store = std::move(store), piece, offset, length, done = std::move(done)]() mutable {
    std::string data(static_cast<std::size_t>(length), '\0');
    Status s = store->read(piece, offset, std::span<char>(data.data(), data.size()));
    Expected<std::string> result =
        s ? Expected<std::string>(std::move(data)) : Expected<std::string>(s.error());
    boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

void DiskIo::async_write(std::shared_ptr<FileStore> store, PieceIndex piece, std::int64_t offset,
                         std::string data, std::function<void(Status)> done) {
  const auto bytes = static_cast<std::int64_t>(data.size());
  queued_write_bytes_ += bytes;
  submit([this, store = std::move(store), piece, offset, bytes, data = std::move(data),
          done = std::move(done)]() mutable {
    Status s = store->write(piece, offset, data);
    data = std::string();
    boost::asio::post(io_, [this, bytes, done = std::move(done), s = std::move(s)]() mutable {
      queued_write_bytes_ -= bytes;
      done(std::move(s));
    });
  });
}

void DiskIo::async_hash(std::shared_ptr<FileStore> store, PieceIndex piece,
                        std::function<void(Expected<Sha1Digest>)> done) {
  submit([this, store = std::move(store), piece, done = std::move(done)]() mutable {
    const std::int64_t size = store->layout().piece_size(piece);
    std::string buffer(static_cast<std::size_t>(std::min(size, kHashChunk)), '\0');
    Sha1Hasher hasher;
    Expected<Sha1Digest> result = Sha1Digest{};
    for (std::int64_t at = 0; at < size; at += kHashChunk) {
      const auto n = static_cast<std::size_t>(std::min(kHashChunk, size - at));
      if (Status s = store->read(piece, at, std::span<char>(buffer.data(), n)); !s) {
        result = s.error();
        break;
      }
      hasher.update(buffer.data(), n);
    }
    if (result) result = hasher.finish();
    boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

void DiskIo::async_hash_blocks(std::shared_ptr<FileStore> store, PieceIndex piece,
                               std::int64_t block_size,
                               std::function<void(Expected<std::vector<Sha1Digest>>)> done) {
  submit([this, store = std::move(store), piece, block_size, done = std::move(done)]() mutable {
    const std::int64_t size = store->layout().piece_size(piece);
    std::string buffer(static_cast<std::size_t>(std::min(size, block_size)), '\0');
    std::vector<Sha1Digest> digests;
    Expected<std::vector<Sha1Digest>> result = std::vector<Sha1Digest>{};
    for (std::int64_t at = 0; at < size; at += block_size) {
      const auto n = static_cast<std::size_t>(std::min(block_size, size - at));
      if (Status s = store->read(piece, at, std::span<char>(buffer.data(), n)); !s) {
        result = s.error();
        break;
      }
      digests.push_back(sha1(std::string_view(buffer.data(), n)));
    }
    if (result) result = std::move(digests);
    boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

}  // namespace starling::session
