// Routing stays exact while subscriptions churn: the layered route table (base +
// runs + tombstones, background merges) must always answer what a naive scan of the
// live subscriptions answers.
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "evmesh/runtime/runtime.h"
#include "scripted_sink.h"

namespace evmesh {
namespace {

using namespace std::chrono_literals;

class NullSinkFactory final : public SinkFactory {
 public:
  explicit NullSinkFactory(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  Result<std::shared_ptr<Sink>> make(const SinkSpec&) override {
    return std::make_shared<testing::ScriptedSink>(ex_, [](const Event&, int) { return testing::ok(); });
  }

 private:
  boost::asio::any_io_executor ex_;
};

class RouteChurnTest : public ::testing::Test {
 protected:
  RouteChurnTest() : work_(boost::asio::make_work_guard(io_)), sinks_(io_.get_executor()) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~RouteChurnTest() override {
    runtime_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  void start(RuntimeOptions options) {
    runtime_ = std::make_unique<Runtime>(io_.get_executor(), options, sinks_);
  }
  // Waits for the merge in flight (if any) to be installed.
  void settle() {
    for (int i = 0; i < 500 && runtime_->routing_stats().merging; ++i) std::this_thread::sleep_for(2ms);
    ASSERT_FALSE(runtime_->routing_stats().merging);
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  NullSinkFactory sinks_;
  std::unique_ptr<Runtime> runtime_;
  std::vector<std::thread> threads_;
};

// Random filters over a small vocabulary, so that events often match.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::string pick(const std::vector<std::string>& from) { return from[rng_() % from.size()]; }
  filter::FilterPtr leaf() {
    switch (rng_() % 4) {
      case 0: return filter::exact("type", pick(types_));
      case 1: return filter::prefix("source", pick(source_prefixes_));
      case 2: return filter::suffix("subject", pick(subject_suffixes_));
      default: return filter::exact("source", pick(sources_));
    }
  }
  filter::FilterPtr expr() {
    switch (rng_() % 6) {
      case 0: return filter::any({leaf(), leaf()});
      case 1: return filter::negate(leaf());
      case 2: return filter::all({leaf(), leaf()});
      default: return leaf();
    }
  }
  Subscription subscription(std::string id) {
    Subscription s;
    s.id = std::move(id);
    s.sink.uri = "http://sink/";
    for (auto n = rng_() % 3; n > 0; --n) s.filters.push_back(expr());
    if (rng_() % 8 == 0) s.types = {pick(types_), pick(types_)};
    return s;
  }
  EventPtr event(int n) {
    EventBuilder b;
    b.set("specversion", "1.0").set("id", "e" + std::to_string(n)).set("source", pick(sources_));
    b.set("type", pick(types_));
    if (rng_() % 4) b.set("subject", pick(subjects_));
    return std::move(b).build().value();
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> types_{"a", "b", "c", "order.created", "order.paid"};
  std::vector<std::string> sources_{"/shop/eu", "/shop/us", "/bank", "/bank/x"};
  std::vector<std::string> source_prefixes_{"/shop", "/shop/e", "/b"};
  std::vector<std::string> subjects_{"cat.jpg", "dog.png", "x.jpg", "readme"};
  std::vector<std::string> subject_suffixes_{".jpg", "g", "me"};
};

std::set<std::string> naive(const std::map<std::string, Subscription>& model, const Event& ev) {
  std::set<std::string> out;
  for (const auto& [id, sub] : model)
    if (filter::matches_all(sub.effective_filters(), ev)) out.insert(id);
  return out;
}

std::set<std::string> routed(const Runtime& rt, const Event& ev) {
  auto ids = rt.matching(ev);
  std::set<std::string> out(ids.begin(), ids.end());
  EXPECT_EQ(out.size(), ids.size()) << "a subscription matched twice";
  return out;
}

TEST_F(RouteChurnTest, RoutingMatchesANaiveScanThroughInterleavedWrites) {
  // Tiny layers so that runs fold and background merges run (and race with writes).
  start({.max_subscriptions = 100'000, .index_delta_capacity = 4, .index_merge_min = 16});
  Generator gen(42);
  std::map<std::string, Subscription> model;
  std::vector<std::string> order;  // creation order, for list()
  int next = 0;
  for (int step = 0; step < 6000; ++step) {
    const auto dice = gen.rng()() % 10;
    if (dice < 5 || model.size() < 20) {
      auto sub = gen.subscription("s" + std::to_string(next++));
      ASSERT_TRUE(runtime_->create(sub)) << step;
      order.push_back(sub.id);
      model.emplace(sub.id, std::move(sub));
    } else {
      auto it = std::next(model.begin(), static_cast<long>(gen.rng()() % model.size()));
      const std::string id = it->first;
      if (dice < 8) {
        auto sub = gen.subscription("ignored");
        auto r = runtime_->replace(id, sub);
        ASSERT_TRUE(r) << step;
        it->second = *r;
      } else {
        ASSERT_TRUE(runtime_->remove(id)) << step;
        model.erase(it);
        std::erase(order, id);
      }
    }
    if (step % 7 == 0) {
      for (int e = 0; e < 5; ++e) {
        auto ev = gen.event(e);
        ASSERT_EQ(routed(*runtime_, *ev), naive(model, *ev)) << "step " << step;
      }
    }
  }
  settle();
  auto stats = runtime_->routing_stats();
  EXPECT_GT(stats.merges, 10u);
  EXPECT_LE(stats.layers, 3u);
  for (int e = 0; e < 200; ++e) {
    auto ev = gen.event(e);
    ASSERT_EQ(routed(*runtime_, *ev), naive(model, *ev));
  }
  // The CRUD views agree too: list() in creation order, get() the latest version.
  auto listed = runtime_->list();
  ASSERT_EQ(listed.size(), model.size());
  for (std::size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(listed[i].id, order[i]);
  for (const auto& [id, sub] : model) {
    auto got = runtime_->get(id);
    ASSERT_TRUE(got);
    EXPECT_EQ(filter::to_json(got->filters), filter::to_json(sub.filters));
  }
  EXPECT_FALSE(runtime_->get("s-none"));
}

TEST_F(RouteChurnTest, RemovedAndReplacedIdsCanBeReused) {
  start({.max_subscriptions = 100, .index_delta_capacity = 2, .index_merge_min = 4});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(runtime_->create(Generator(i).subscription("x" + std::to_string(i))));
  ASSERT_TRUE(runtime_->remove("x3"));
  EXPECT_EQ(runtime_->remove("x3").error().code, Errc::not_found);
  auto again = Generator(7).subscription("x3");
  again.filters = {filter::exact("type", "only")};
  ASSERT_TRUE(runtime_->create(again));
  EXPECT_EQ(runtime_->create(again).error().code, Errc::conflict);
  settle();
  EXPECT_EQ(runtime_->list().size(), 10u);
  auto ids = runtime_->matching(*testing::make_event("1", "only"));
  EXPECT_NE(std::find(ids.begin(), ids.end(), "x3"), ids.end());
}

TEST_F(RouteChurnTest, LimitCountsLiveSubscriptionsOnly) {
  start({.max_subscriptions = 5, .index_delta_capacity = 2, .index_merge_min = 2});
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(runtime_->create(Generator(i).subscription("l" + std::to_string(i))));
    EXPECT_EQ(runtime_->create(Generator(9).subscription("over")).error().code, Errc::limit_reached);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(runtime_->remove("l" + std::to_string(i)));
  }
  EXPECT_TRUE(runtime_->list().empty());
}

TEST_F(RouteChurnTest, PublishersRunWhileWritersChurn) {
  start({.max_subscriptions = 100'000, .index_delta_capacity = 8, .index_merge_min = 64});
  // A stable subscription that must see every event, whatever else happens.
  Subscription steady;
  steady.id = "steady";
  steady.sink.uri = "http://sink/";
  steady.types = {"probe"};
  steady.delivery.queue_capacity = 1'000'000;
  ASSERT_TRUE(runtime_->create(steady));
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> published{0}, missed{0};
  std::thread publisher([&] {
    auto ev = testing::make_event("p", "probe");
    std::vector<EventPtr> batch{ev};
    while (!stop.load()) {
      auto r = runtime_->publish(batch);
      auto ids = runtime_->matching(*ev);
      if (!r || std::find(ids.begin(), ids.end(), "steady") == ids.end()) ++missed;
      ++published;
    }
  });
  Generator gen(3);
  for (int i = 0; i < 3000; ++i) {
    auto sub = gen.subscription("c" + std::to_string(i));
    // Room for every probe it matches: a full queue is a 503, not the routing miss we test.
    sub.delivery.queue_capacity = 1'000'000;
    ASSERT_TRUE(runtime_->create(sub));
    if (i % 3 == 0) (void)runtime_->remove("c" + std::to_string(i / 2));  // may be gone already
  }
  stop = true;
  publisher.join();
  EXPECT_GT(published.load(), 0u);
  EXPECT_EQ(missed.load(), 0u);
}

}  // namespace
}  // namespace evmesh
