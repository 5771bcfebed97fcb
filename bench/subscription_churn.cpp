// Subscription churn: how long adding N subscriptions one by one through
// Runtime::create takes, what each costs in memory (RSS delta / N), and how a publish
// and a remove fare at that size. Exact-type filters with distinct types.
//
//   subscription_churn [N=100000 [delta_capacity [merge_min]]]
//
// A plain program, not a Google Benchmark: each step runs once at full size.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "evmesh/runtime/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;

class NullSink final : public evmesh::Sink {
 public:
  void send(evmesh::EventPtr, std::function<void(evmesh::DeliveryOutcome)> done) override {
    done({evmesh::DeliveryOutcome::Kind::delivered, 200, "", std::nullopt});
  }
  void close() override {}
};

class NullSinkFactory final : public evmesh::SinkFactory {
 public:
  evmesh::Result<std::shared_ptr<evmesh::Sink>> make(const evmesh::SinkSpec&) override {
    return std::make_shared<NullSink>();
  }
};

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

// CPU time of the calling thread: steadier than wall time on a shared machine.
double thread_cpu_ms() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

evmesh::EventPtr event(const std::string& type) {
  evmesh::EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/bench").set("type", type);
  return std::move(b).build().value();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  spdlog::set_level(spdlog::level::warn);
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread worker([&] { io.run(); });  // runs the background merges
  NullSinkFactory sinks;
  {
    evmesh::RuntimeOptions options{.max_subscriptions = n + 1};
    if (argc > 2) options.index_delta_capacity = std::strtoul(argv[2], nullptr, 10);
    if (argc > 3) options.index_merge_min = std::strtoul(argv[3], nullptr, 10);
    evmesh::Runtime runtime(io.get_executor(), options, sinks);

    std::vector<evmesh::Subscription> subs(n);
    for (std::size_t i = 0; i < n; ++i) {
      subs[i].id = "sub-" + std::to_string(i);
      subs[i].sink.uri = "http://127.0.0.1:9/";
      subs[i].filters = {evmesh::filter::exact("type", "com.example.type." + std::to_string(i))};
    }
    const long rss0 = rss_kib();
    double worst_ms = 0;
    const double cpu0 = thread_cpu_ms();
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      const auto t = Clock::now();
      if (!runtime.create(std::move(subs[i]))) {
        std::fprintf(stderr, "create %zu failed\n", i);
        return 1;
      }
      worst_ms = std::max(worst_ms, ms_since(t));
    }
    const double add_ms = ms_since(t0);
    const double add_cpu_ms = thread_cpu_ms() - cpu0;
    while (runtime.routing_stats().merging) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double settled_ms = ms_since(t0);
    const long rss1 = rss_kib();
    auto layout = runtime.routing_stats();

    // Publish-side cost at this size: matching one event.
    auto ev = event("com.example.type." + std::to_string(n / 2));
    constexpr int kProbes = 100'000;
    std::size_t hits = 0;
    const auto tm = Clock::now();
    for (int i = 0; i < kProbes; ++i) hits += runtime.matching(*ev).size();
    const double match_ns = ms_since(tm) * 1e6 / kProbes;

    // What the old layout paid on every write: one index build over all n.
    std::vector<evmesh::filter::IndexEntry> entries;
    for (std::uint32_t i = 0; i < n; ++i)
      entries.push_back({i, {evmesh::filter::exact("type", "com.example.type." + std::to_string(i))}});
    const auto tb = Clock::now();
    auto full = evmesh::filter::SubscriptionIndex::build(std::move(entries));
    const double full_build_ms = ms_since(tb);
    full.reset();

    // Removing a tenth, one by one.
    const auto tr = Clock::now();
    for (std::size_t i = 0; i < n; i += 10) (void)runtime.remove("sub-" + std::to_string(i));
    const double remove_ms = ms_since(tr);

    std::printf("subscriptions            %zu\n", n);
    std::printf("add all (Runtime::create) %.0f ms wall, %.0f ms CPU of the writer (%.2f us each, worst single create %.2f ms)\n",
                add_ms, add_cpu_ms, add_ms * 1000 / n, worst_ms);
    std::printf("until merges settled     %.0f ms  (%llu merges, layout: %zu layers, base %zu, runs %zu)\n",
                settled_ms, static_cast<unsigned long long>(layout.merges), layout.layers, layout.base,
                layout.runs);
    std::printf("memory                   RSS +%ld KiB = %.0f bytes per subscription\n", rss1 - rss0,
                (rss1 - rss0) * 1024.0 / n);
    std::printf("match one event          %.0f ns (%zu hits / %d)\n", match_ns, hits, kProbes);
    std::printf("one full index build     %.0f ms (the old layout rebuilt this on every write: ~n/2 x this to add n)\n",
                full_build_ms);
    std::printf("remove %zu one by one   %.0f ms (%.2f us each)\n", n / 10, remove_ms,
                remove_ms * 1000 / (n / 10));
  }
  work.reset();
  worker.join();
  return 0;
}
