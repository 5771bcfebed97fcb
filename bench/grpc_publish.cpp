// grpc_publish: publish throughput of a running evmeshd over gRPC. Not a Google
// Benchmark and not a ctest test: run it by hand (bench/grpc_publish.sh compares it
// with the HTTP path in the same run).
//
//   grpc_publish HOST:PORT MODE SECONDS THREADS [BATCH]
//     MODE unary   one Publish per event, THREADS blocking callers
//     MODE batch   PublishBatch of BATCH events (default 100), THREADS blocking callers
//     MODE stream  THREADS PublishStream calls, each writing messages of BATCH events
//                  (default 1: one event per message) as fast as flow control allows
//     MODE stream-corked  the same, writes with WriteOptions::set_buffer_hint (gRPC may
//                  coalesce them into fewer frames and syscalls, as a bulk publisher would)
// Prints one line: mode, threads, batch, events/s, calls/s (messages/s for stream),
// errors. Events count only when the server confirmed them.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "evmesh/v1/broker.grpc.pb.h"
#include "grpc_bench_event.h"

namespace pb = ::evmesh::v1;

namespace {

struct Counters {
  std::atomic<long> events{0}, calls{0}, errors{0};
  std::atomic<bool> stop{false};
};

void run_unary(pb::Broker::Stub& stub, const std::string& mode, int batch, Counters& c) {
  pb::PublishRequest one;
  *one.mutable_event() = bench_event();
  pb::PublishBatchRequest many;
  for (int i = 0; i < batch; ++i) *many.mutable_batch()->add_events() = bench_event();
  while (!c.stop.load(std::memory_order_relaxed)) {
    grpc::ClientContext ctx;
    grpc::Status status;
    if (mode == "batch") {
      pb::PublishBatchResponse res;
      status = stub.PublishBatch(&ctx, many, &res);
      if (status.ok()) c.events += batch;
    } else {
      pb::PublishResponse res;
      status = stub.Publish(&ctx, one, &res);
      if (status.ok()) ++c.events;
    }
    ++c.calls;
    if (!status.ok()) ++c.errors;
  }
}

void run_stream(pb::Broker::Stub& stub, int batch, bool corked, Counters& c) {
  pb::PublishStreamRequest msg;
  if (batch == 1) {
    *msg.mutable_event() = bench_event();
  } else {
    for (int i = 0; i < batch; ++i) *msg.mutable_batch()->add_events() = bench_event();
  }
  grpc::ClientContext ctx;
  pb::PublishStreamResponse res;
  auto writer = stub.PublishStream(&ctx, &res);
  auto options = corked ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions();
  long written = 0;
  while (!c.stop.load(std::memory_order_relaxed) && writer->Write(msg, options)) ++written;
  writer->WritesDone();
  const auto status = writer->Finish();
  c.calls += written;
  c.events += static_cast<long>(res.published());
  if (!status.ok()) {
    ++c.errors;
    std::fprintf(stderr, "stream: %s\n", status.error_message().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s HOST:PORT unary|batch|stream|stream-corked SECONDS THREADS [BATCH]\n",
                 argv[0]);
    return 2;
  }
  const std::string target = argv[1], mode = argv[2];
  const int seconds = std::stoi(argv[3]), threads = std::stoi(argv[4]);
  const int batch = argc > 5 ? std::stoi(argv[5]) : (mode == "batch" ? 100 : 1);
  const bool stream = mode == "stream" || mode == "stream-corked";
  if (mode != "unary" && mode != "batch" && !stream) {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  Counters counters;
  std::vector<std::thread> pool;
  const auto started = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // One channel per thread: separate HTTP/2 connections, as separate clients.
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", t);
      auto stub = pb::Broker::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
      if (stream) {
        run_stream(*stub, batch, mode == "stream-corked", counters);
      } else {
        run_unary(*stub, mode, batch, counters);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  counters.stop = true;
  for (auto& t : pool) t.join();
  // Streams finish after `stop` (the server confirms what it read): count that time too.
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%s threads=%d batch=%d events/s=%.0f calls/s=%.0f errors=%ld\n", mode.c_str(),
              threads, mode == "unary" ? 1 : batch, double(counters.events) / elapsed,
              double(counters.calls) / elapsed, counters.errors.load());
  return counters.errors ? 1 : 0;
}
