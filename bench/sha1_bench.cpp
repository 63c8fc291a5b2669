// SHA-1 throughput on 1 MiB pieces: OpenSSL (one stream, what Sha1Hasher uses), Sha1Stream on
// one stream, and Sha1Stream::update_together on two and on three (the bytes of every piece
// count).
//   build/bin/sha1_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.hpp"
#include "core/sha1_stream.hpp"

namespace {

using starling::Sha1Hasher;
using starling::Sha1Stream;

constexpr std::size_t kPiece = 1 << 20;

std::string random_piece(unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(kPiece, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

const std::string& piece(std::size_t k) {
  static const std::string pieces[] = {random_piece(1), random_piece(2), random_piece(3)};
  return pieces[k];
}

void BM_OpenSslOneStream(benchmark::State& state) {
  Sha1Hasher hasher;
  for (auto _ : state) {
    hasher.update(piece(0));
    benchmark::DoNotOptimize(hasher.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPiece));
}
BENCHMARK(BM_OpenSslOneStream);

void BM_Sha1StreamOneStream(benchmark::State& state) {
  Sha1Stream stream;
  for (auto _ : state) {
    stream.update(piece(0));
    benchmark::DoNotOptimize(stream.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPiece));
}
BENCHMARK(BM_Sha1StreamOneStream);

// state.range(0) streams.
void BM_Sha1StreamInLockstep(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::vector<Sha1Stream> streams(count);
  std::vector<Sha1Stream*> pointers;
  std::vector<std::string_view> data;
  for (std::size_t k = 0; k < count; ++k) {
    pointers.push_back(&streams[k]);
    data.emplace_back(piece(k));
  }
  for (auto _ : state) {
    Sha1Stream::update_together(pointers, data);
    for (auto& stream : streams) benchmark::DoNotOptimize(stream.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * count * kPiece));
  state.SetLabel(Sha1Stream::accelerated() ? "SHA extensions" : "OpenSSL fallback");
}
BENCHMARK(BM_Sha1StreamInLockstep)->Arg(2)->Arg(3);

}  // namespace
