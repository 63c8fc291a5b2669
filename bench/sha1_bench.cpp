// SHA-1 throughput on 1 MiB pieces: OpenSSL (one stream, what Sha1Hasher uses), Sha1Stream on
// one stream, and Sha1Stream::update_both on two (the bytes of both pieces count).
//   build/bin/sha1_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <string>

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

const std::string& piece_a() {
  static const std::string a = random_piece(1);
  return a;
}

const std::string& piece_b() {
  static const std::string b = random_piece(2);
  return b;
}

void BM_OpenSslOneStream(benchmark::State& state) {
  Sha1Hasher hasher;
  for (auto _ : state) {
    hasher.update(piece_a());
    benchmark::DoNotOptimize(hasher.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPiece));
}
BENCHMARK(BM_OpenSslOneStream);

void BM_Sha1StreamOneStream(benchmark::State& state) {
  Sha1Stream stream;
  for (auto _ : state) {
    stream.update(piece_a());
    benchmark::DoNotOptimize(stream.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPiece));
}
BENCHMARK(BM_Sha1StreamOneStream);

void BM_Sha1StreamTwoInLockstep(benchmark::State& state) {
  Sha1Stream a;
  Sha1Stream b;
  for (auto _ : state) {
    Sha1Stream::update_both(a, piece_a(), b, piece_b());
    benchmark::DoNotOptimize(a.finish());
    benchmark::DoNotOptimize(b.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * kPiece));
  state.SetLabel(Sha1Stream::accelerated() ? "SHA extensions" : "OpenSSL fallback");
}
BENCHMARK(BM_Sha1StreamTwoInLockstep);

}  // namespace
