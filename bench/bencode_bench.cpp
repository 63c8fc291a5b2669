// Bencode throughput on a ~1 MB torrent-like document: 50,000 SHA-1 piece hashes (1,000,000
// bytes of 'pieces') and a list of 2,000 file dicts.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

namespace {

using namespace starling::bencode;

constexpr int kPieces = 50'000;
constexpr int kFiles = 2'000;

std::string pieces_bytes() {
  std::string pieces(static_cast<std::size_t>(kPieces) * 20, '\0');
  std::uint32_t x = 0x9e3779b9u;
  for (char& c : pieces) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return pieces;
}

Value torrent_value() {
  List files;
  files.reserve(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    Dict file;
    file["length"] = std::int64_t{1'000'000} + i * 4099;
    List path;
    path.emplace_back("directory " + std::to_string(i % 37));
    path.emplace_back("file-" + std::to_string(i) + ".bin");
    file["path"] = std::move(path);
    files.emplace_back(std::move(file));
  }
  Dict info{
      {"files", std::move(files)},
      {"name", "benchmark torrent"},
      {"piece length", 262'144},
      {"pieces", pieces_bytes()},
  };
  return Dict{
      {"announce", "http://tracker.example:6969/announce"},
      {"comment", "synthetic document for the bencode micro-benchmarks"},
      {"creation date", 1'700'000'000},
      {"info", std::move(info)},
  };
}

const std::string& torrent_bytes() {
  static const std::string bytes = encode(torrent_value());
  return bytes;
}

void BM_Decode(benchmark::State& state) {
  const std::string& input = torrent_bytes();
  for (auto _ : state) {
    auto doc = decode(input);
    if (!doc) state.SkipWithError(doc.error().message().c_str());
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(input.size()));
  state.counters["doc_bytes"] = static_cast<double>(input.size());
}
BENCHMARK(BM_Decode);

// Decoding plus what a torrent loader does next: hash-ready info bytes and a walk of the files.
void BM_DecodeAndWalkFiles(benchmark::State& state) {
  const std::string& input = torrent_bytes();
  for (auto _ : state) {
    auto doc = decode(input);
    if (!doc) {
      state.SkipWithError(doc.error().message().c_str());
      break;
    }
    auto info = doc->root().find_dict("info");
    std::int64_t total = 0;
    std::size_t name_bytes = 0;
    for (const Node& file : info->find_list("files")->elements()) {
      total += file.find_int("length").value_or(0);
      for (const Node& part : file.find_list("path")->elements()) {
        name_bytes += part.as_string().size();
      }
    }
    benchmark::DoNotOptimize(info->raw());
    benchmark::DoNotOptimize(total);
    benchmark::DoNotOptimize(name_bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(input.size()));
}
BENCHMARK(BM_DecodeAndWalkFiles);

void BM_EncodeValue(benchmark::State& state) {
  const Value value = torrent_value();
  std::size_t size = 0;
  for (auto _ : state) {
    std::string out = encode(value);
    size = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}
BENCHMARK(BM_EncodeValue);

// The streaming Encoder writing the same shape straight into a reused buffer.
void BM_EncodeStreaming(benchmark::State& state) {
  const std::string pieces = pieces_bytes();
  std::string out;
  for (auto _ : state) {
    out.clear();
    Encoder e(out);
    e.begin_dict();
    e.string("announce");
    e.string("http://tracker.example:6969/announce");
    e.string("info");
    e.begin_dict();
    e.string("files");
    e.begin_list();
    for (int i = 0; i < kFiles; ++i) {
      e.begin_dict();
      e.string("length");
      e.integer(std::int64_t{1'000'000} + i * 4099);
      e.string("path");
      e.begin_list();
      e.string("directory");
      e.string("file.bin");
      e.end();
      e.end();
    }
    e.end();
    e.string("name");
    e.string("benchmark torrent");
    e.string("piece length");
    e.integer(262'144);
    e.string("pieces");
    e.string(pieces);
    e.end();
    e.end();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_EncodeStreaming);

}  // namespace
