// Fills an embedded event store (the data directory evmeshd opens) with N events that
// subscription SUB has not settled (its cursor is 0), for bench/recovery.sh: a daemon
// started on it reads them all back and delivers them again.
//
//   store_fill DATA_DIR N [DATA_BYTES=200 [SUB=bench]]
//
// The data is random letters and digits (about 6 bits of entropy per byte, so RocksDB's
// block compression cannot fold it away as it would a repeated byte). Appends in
// batches of 1,000 with commit policy `none` (filling is not what is measured), then
// prints the events' record bytes (EventStore::bytes()) and the time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "evmesh/store/event_store.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: store_fill DATA_DIR N [DATA_BYTES=200 [SUB=bench]]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const long count = std::atol(argv[2]);
  const long data_bytes = argc > 3 ? std::atol(argv[3]) : 200;
  const std::string sub = argc > 4 ? argv[4] : "bench";
  if (count <= 0 || data_bytes < 0) {
    std::fprintf(stderr, "store_fill: N must be > 0 and DATA_BYTES >= 0\n");
    return 2;
  }
  auto opened = evmesh::store::open_embedded_store({dir, evmesh::store::CommitPolicy::none});
  if (!opened) {
    std::fprintf(stderr, "store_fill: %s\n", opened.error().message.c_str());
    return 1;
  }
  auto& store = **opened;
  const auto start = std::chrono::steady_clock::now();
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::mt19937_64 rng(42);
  std::string data(static_cast<std::size_t>(data_bytes), ' ');
  std::vector<evmesh::EventPtr> batch;
  for (long i = 0; i < count;) {
    batch.clear();
    for (; i < count && batch.size() < 1000; ++i) {
      for (auto& c : data) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
      evmesh::EventBuilder b;
      b.set("specversion", "1.0").set("id", std::to_string(i)).set("source", "/bench/recovery")
          .set("type", "com.example.bench.event").set("partitionkey", std::to_string(i % 16))
          .data(evmesh::Bytes(data));
      batch.push_back(std::move(b).build().value());
    }
    if (auto ok = store.append(batch); !ok) {
      std::fprintf(stderr, "store_fill: %s\n", ok.error().message.c_str());
      return 1;
    }
  }
  if (auto ok = store.commit(sub, 0); !ok) {
    std::fprintf(stderr, "store_fill: %s\n", ok.error().message.c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("events %ld record_bytes %llu fill_seconds %.2f\n", count,
              static_cast<unsigned long long>(store.bytes()), secs);
  return 0;
}
