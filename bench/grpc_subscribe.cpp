// grpc_subscribe: Subscribe-stream delivery of a running evmeshd, end to end over
// gRPC: a PublishStream publisher and a Subscribe consumer in this process (one
// steady clock for both ends). By hand only (bench/grpc_publish.sh runs it).
//
//   grpc_subscribe HOST:PORT deliver SECONDS [CREDIT]
//       publishes as fast as flow control allows; prints events/s received (and acked)
//   grpc_subscribe HOST:PORT latency SECONDS RATE [CREDIT]
//       publishes RATE events/s, each carrying its send time; prints p50/p99/max of
//       send -> receive in microseconds
// The consumer joins group "bench-<pid>" (filter: type com.example.bench.event), with
// CREDIT (default 1000) events in flight, acking every 64 events or 5 ms.
#include <unistd.h>

#include <algorithm>
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
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Publishes until `stop`: as fast as possible (rate 0) or paced to `rate` events/s.
// Returns the events written (flow control admits at most a window more than the
// broker took). The caller cancels `ctx` to end a write held by backpressure.
long publish(pb::Broker::Stub& stub, grpc::ClientContext& ctx, double rate,
             const std::atomic<bool>& stop) {
  pb::PublishStreamResponse res;
  auto writer = stub.PublishStream(&ctx, &res);
  pb::PublishStreamRequest msg;
  *msg.mutable_event() = bench_event();
  const auto start = Clock::now();
  long sent = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (rate > 0) {
      const auto due =
          start + std::chrono::nanoseconds(static_cast<std::int64_t>(sent * 1e9 / rate));
      std::this_thread::sleep_until(due);
    }
    (*msg.mutable_event()->mutable_attributes())["sentns"].set_ce_string(std::to_string(now_ns()));
    if (!writer->Write(msg)) break;
    ++sent;
  }
  writer->WritesDone();
  if (auto status = writer->Finish();
      !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
    std::fprintf(stderr, "publish: %s\n", status.error_message().c_str());
  return sent;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s HOST:PORT deliver SECONDS [CREDIT] | latency SECONDS RATE [CREDIT]\n",
                 argv[0]);
    return 2;
  }
  const std::string target = argv[1], mode = argv[2];
  const int seconds = std::stoi(argv[3]);
  const bool latency = mode == "latency";
  const double rate = latency && argc > 4 ? std::stod(argv[4]) : 0;
  const int credit_arg = latency ? 5 : 4;
  const unsigned credit = argc > credit_arg ? std::stoul(argv[credit_arg]) : 1000;
  if ((mode != "deliver" && mode != "latency") || (latency && rate <= 0)) {
    std::fprintf(stderr, "bad mode or rate\n");
    return 2;
  }

  // Separate connections for the two ends, as separate clients.
  grpc::ChannelArguments sub_args, pub_args;
  sub_args.SetInt("grpc.channel_id", 1);
  pub_args.SetInt("grpc.channel_id", 2);
  auto sub_stub = pb::Broker::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), sub_args));
  auto pub_stub = pb::Broker::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), pub_args));

  grpc::ClientContext sub_ctx;
  auto stream = sub_stub->Subscribe(&sub_ctx);
  pb::SubscribeRequest start;
  start.mutable_start()->set_filters(R"([{"exact":{"type":"com.example.bench.event"}}])");
  start.mutable_start()->set_group("bench-" + std::to_string(getpid()));
  start.mutable_start()->set_max_in_flight(credit);
  if (!stream->Write(start)) {
    std::fprintf(stderr, "cannot start the Subscribe stream\n");
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the group's subscription exists

  std::atomic<bool> stop{false};
  long published = 0;
  grpc::ClientContext pub_ctx;
  std::thread publisher([&] { published = publish(*pub_stub, pub_ctx, rate, stop); });

  std::vector<std::int64_t> latencies_ns;
  latencies_ns.reserve(latency ? static_cast<std::size_t>(rate * seconds * 1.2) : 0);
  long received = 0;
  pb::SubscribeResponse msg;
  pb::SubscribeRequest ack;
  auto last_ack = Clock::now();
  const auto window_start = Clock::now();
  const auto window_end = window_start + std::chrono::seconds(seconds);
  while (Clock::now() < window_end && stream->Read(&msg)) {
    ++received;
    if (latency) {
      const auto& attrs = msg.event().attributes();
      if (auto it = attrs.find("sentns"); it != attrs.end())
        latencies_ns.push_back(now_ns() - std::stoll(it->second.ce_string()));
    }
    ack.mutable_ack()->add_delivery_ids(msg.delivery_id());
    if (ack.ack().delivery_ids_size() >= 64 ||
        Clock::now() - last_ack > std::chrono::milliseconds(5)) {
      stream->Write(ack);
      ack.Clear();
      last_ack = Clock::now();
    }
  }
  const double window = std::chrono::duration<double>(Clock::now() - window_start).count();
  stop = true;
  pub_ctx.TryCancel();  // its write may be held by backpressure now that nobody reads
  publisher.join();
  sub_ctx.TryCancel();
  stream->Finish();

  if (!latency) {
    std::printf("deliver credit=%u delivered/s=%.0f published/s=%.0f\n", credit, received / window,
                published / window);
    return 0;
  }
  if (latencies_ns.empty()) {
    std::fprintf(stderr, "no events received\n");
    return 1;
  }
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto pct = [&](double p) {
    return latencies_ns[std::min(latencies_ns.size() - 1,
                                 static_cast<std::size_t>(p * latencies_ns.size()))] /
           1e3;
  };
  std::printf("latency rate=%.0f received/s=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n", rate,
              received / window, pct(0.50), pct(0.99), latencies_ns.back() / 1e3);
  return 0;
}
