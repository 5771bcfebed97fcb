// grpc_publish: publish throughput of a running evmeshd over gRPC. Not a Google
// Benchmark and not a ctest test: run it by hand (bench/grpc_publish.sh compares it
// with the HTTP path in the same run).
//
//   grpc_publish HOST:PORT MODE SECONDS THREADS [BATCH]
//     MODE unary   one Publish per event, THREADS blocking callers
//     MODE batch   PublishBatch of BATCH events (default 100), THREADS blocking callers
// Prints one line: mode, threads, events/s, calls/s, errors.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "evmesh/v1/broker.grpc.pb.h"

namespace pb = ::evmesh::v1;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s HOST:PORT unary|batch SECONDS THREADS [BATCH]\n", argv[0]);
    return 2;
  }
  const std::string target = argv[1], mode = argv[2];
  const int seconds = std::stoi(argv[3]), threads = std::stoi(argv[4]);
  const int batch = argc > 5 ? std::stoi(argv[5]) : 100;
  std::atomic<long> events{0}, calls{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // One channel per thread: separate HTTP/2 connections, as separate clients.
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", t);
      auto stub = pb::Broker::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
      io::cloudevents::v1::CloudEvent ev;
      ev.set_id("1");
      ev.set_source("/bench");
      ev.set_spec_version("1.0");
      ev.set_type("com.example.bench");
      (*ev.mutable_attributes())["datacontenttype"].set_ce_string("application/json");
      ev.set_text_data(R"({"n":1,"payload":"0123456789abcdef0123456789abcdef"})");
      pb::PublishRequest one;
      *one.mutable_event() = ev;
      pb::PublishBatchRequest many;
      for (int i = 0; i < batch; ++i) *many.mutable_batch()->add_events() = ev;
      while (!stop.load(std::memory_order_relaxed)) {
        grpc::ClientContext ctx;
        grpc::Status status;
        if (mode == "batch") {
          pb::PublishBatchResponse res;
          status = stub->PublishBatch(&ctx, many, &res);
          if (status.ok()) events += batch;
        } else {
          pb::PublishResponse res;
          status = stub->Publish(&ctx, one, &res);
          if (status.ok()) ++events;
        }
        ++calls;
        if (!status.ok()) ++errors;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  std::printf("%s threads=%d events/s=%.0f calls/s=%.0f errors=%ld\n", mode.c_str(), threads,
              double(events) / seconds, double(calls) / seconds, errors.load());
  return 0;
}
