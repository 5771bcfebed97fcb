#include "evmesh/runtime/runtime.h"

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "scripted_sink.h"

namespace evmesh {
namespace {

using namespace std::chrono_literals;
using testing::make_event;
using testing::ScriptedSink;

// Hands out one ScriptedSink per sink URI, so tests can look at what each got.
class ScriptedSinkFactory final : public SinkFactory {
 public:
  ScriptedSinkFactory(boost::asio::any_io_executor ex, std::chrono::milliseconds latency)
      : ex_(std::move(ex)), latency_(latency) {}
  Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) override {
    if (spec.uri.rfind("http://", 0) != 0) return fail(Errc::invalid_subscription, "bad sink", "sink");
    std::lock_guard lock(mutex_);
    concurrency_[spec.uri] = spec.concurrency;
    auto& sink = sinks_[spec.uri];
    if (!sink)
      sink = std::make_shared<ScriptedSink>(ex_, [](const Event&, int) { return testing::ok(); },
                                            latency_);
    return sink;
  }
  std::shared_ptr<ScriptedSink> at(const std::string& uri) {
    std::lock_guard lock(mutex_);
    return sinks_[uri];
  }
  // SinkSpec::concurrency of the last make() for `uri`.
  std::uint32_t concurrency(const std::string& uri) {
    std::lock_guard lock(mutex_);
    return concurrency_[uri];
  }

 private:
  boost::asio::any_io_executor ex_;
  std::chrono::milliseconds latency_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ScriptedSink>> sinks_;
  std::map<std::string, std::uint32_t> concurrency_;
};

class RuntimeTest : public ::testing::Test {
 protected:
  explicit RuntimeTest(std::chrono::milliseconds latency = 0ms)
      : work_(boost::asio::make_work_guard(io_)), sinks_(io_.get_executor(), latency),
        runtime_(io_.get_executor(), {.max_subscriptions = 3}, sinks_) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~RuntimeTest() override {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  static Subscription sub(std::string id, std::string sink, std::vector<filter::FilterPtr> filters,
                          std::size_t capacity = 100) {
    Subscription s;
    s.id = std::move(id);
    s.sink.uri = std::move(sink);
    s.filters = std::move(filters);
    s.delivery.queue_capacity = capacity;
    return s;
  }

  Result<PublishReceipt> publish(std::vector<EventPtr> events) { return runtime_.publish(events); }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  ScriptedSinkFactory sinks_;
  Runtime runtime_;
  std::vector<std::thread> threads_;
};

TEST_F(RuntimeTest, RoutesEachEventToEveryMatchingSubscription) {
  ASSERT_TRUE(runtime_.create(sub("orders", "http://a/", {filter::prefix("type", "com.shop.order.")})));
  ASSERT_TRUE(runtime_.create(sub("all", "http://b/", {})));
  ASSERT_TRUE(runtime_.create(sub("payments", "http://c/", {filter::exact("type", "com.shop.paid")})));

  auto r = publish({make_event("1", "com.shop.order.created"), make_event("2", "com.shop.paid"),
                    make_event("3", "com.other")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events, 3u);
  EXPECT_EQ(r->deliveries, 5u);
  ASSERT_TRUE(sinks_.at("http://b/")->wait_calls(3));
  ASSERT_TRUE(sinks_.at("http://a/")->wait_calls(1));
  ASSERT_TRUE(sinks_.at("http://c/")->wait_calls(1));
  EXPECT_EQ(sinks_.at("http://a/")->calls().size(), 1u);
  EXPECT_EQ(sinks_.at("http://a/")->calls()[0].ev->id(), "1");
  EXPECT_EQ(sinks_.at("http://c/")->calls()[0].ev->id(), "2");
}

// The delivery guard (ACLs at routing): an owned subscription only gets what its
// owner may receive; unowned (operator) subscriptions are not asked.
TEST_F(RuntimeTest, DeliveryGuardWithholdsEventsFromOwnedSubscriptionsOnly) {
  struct NoSecrets final : DeliveryGuard {
    bool may_receive(std::string_view owner, const Event& ev) const override {
      return owner == "root" || !ev.type().starts_with("secret.");
    }
  };
  runtime_.set_delivery_guard(std::make_shared<NoSecrets>());
  auto owned = sub("owned", "http://a/", {});
  owned.owner = "alice";
  ASSERT_TRUE(runtime_.create(owned));
  ASSERT_TRUE(runtime_.create(sub("operator", "http://b/", {})));
  auto r = publish({make_event("1", "secret.plans"), make_event("2", "public.news")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deliveries, 3u);  // operator: both; alice: public.news only
  ASSERT_TRUE(sinks_.at("http://b/")->wait_calls(2));
  ASSERT_TRUE(sinks_.at("http://a/")->wait_calls(1));
  EXPECT_EQ(sinks_.at("http://a/")->calls().size(), 1u);
  EXPECT_EQ(sinks_.at("http://a/")->calls()[0].ev->id(), "2");
}

// A sink with a connection pool sizes it by the deliveries run at once (the webhook
// sink keeps that many idle connections).
TEST_F(RuntimeTest, SinksAreMadeKnowingTheSubscriptionsConcurrency) {
  auto parallel = sub("parallel", "http://a/", {});
  parallel.delivery.concurrency = 8;
  parallel.delivery.dead_letter = SinkSpec{.uri = "http://dead/"};
  ASSERT_TRUE(runtime_.create(parallel));
  ASSERT_TRUE(runtime_.create(sub("ordered", "http://b/", {})));
  EXPECT_EQ(sinks_.concurrency("http://a/"), 8u);
  EXPECT_EQ(sinks_.concurrency("http://dead/"), 8u);
  EXPECT_EQ(sinks_.concurrency("http://b/"), 1u);
}

TEST_F(RuntimeTest, FanOutSharesTheEventNotACopy) {
  ASSERT_TRUE(runtime_.create(sub("a", "http://a/", {})));
  ASSERT_TRUE(runtime_.create(sub("b", "http://b/", {})));
  auto ev = make_event("shared");
  ASSERT_TRUE(publish({ev}));
  ASSERT_TRUE(sinks_.at("http://a/")->wait_calls(1));
  ASSERT_TRUE(sinks_.at("http://b/")->wait_calls(1));
  EXPECT_EQ(sinks_.at("http://a/")->calls()[0].ev.get(), ev.get());
  EXPECT_EQ(sinks_.at("http://b/")->calls()[0].ev.get(), ev.get());
}

TEST_F(RuntimeTest, SourceAndTypesOfTheSubscriptionFilterToo) {
  auto s = sub("typed", "http://a/", {});
  s.types = {"t1", "t2"};
  s.source = "/test";
  ASSERT_TRUE(runtime_.create(s));
  auto r = publish({make_event("1", "t1"), make_event("2", "t3"), make_event("3", "t2")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deliveries, 2u);
}

TEST_F(RuntimeTest, CrudAndLimits) {
  auto created = runtime_.create(sub("", "http://a/", {}));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->id.rfind("sub-", 0), 0u);
  ASSERT_TRUE(runtime_.create(sub("x", "http://a/", {})));
  auto dup = runtime_.create(sub("x", "http://a/", {}));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::conflict);
  auto bad = runtime_.create(sub("y", "ftp://a/", {}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_subscription);
  ASSERT_TRUE(runtime_.create(sub("z", "http://a/", {})));
  auto over = runtime_.create(sub("w", "http://a/", {}));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::limit_reached);
  EXPECT_EQ(runtime_.list().size(), 3u);

  auto replaced = runtime_.replace("x", sub("ignored", "http://b/", {filter::exact("type", "t")}));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->id, "x");
  EXPECT_EQ(runtime_.get("x")->sink.uri, "http://b/");
  EXPECT_EQ(runtime_.replace("nope", sub("", "http://b/", {})).error().code, Errc::not_found);

  ASSERT_TRUE(runtime_.remove("x"));
  EXPECT_FALSE(runtime_.get("x"));
  EXPECT_EQ(runtime_.remove("x").error().code, Errc::not_found);
}

class SlowRuntimeTest : public RuntimeTest {
 protected:
  SlowRuntimeTest() : RuntimeTest(100ms) {}
};

TEST_F(SlowRuntimeTest, FullQueueRejectsTheWholePublish) {
  ASSERT_TRUE(runtime_.create(sub("roomy", "http://a/", {}, 100)));
  ASSERT_TRUE(runtime_.create(sub("tight", "http://b/", {}, 2)));
  ASSERT_TRUE(publish({make_event("1"), make_event("2")}));
  auto r = publish({make_event("3")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::overloaded);
  EXPECT_NE(r.error().message.find("'tight'"), std::string::npos);
  // Nothing of the rejected publish reached the roomy subscription either.
  ASSERT_TRUE(sinks_.at("http://a/")->wait_calls(2));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(sinks_.at("http://a/")->calls().size(), 2u);
}

TEST_F(SlowRuntimeTest, ShutdownDrainsThenRefusesPublishes) {
  ASSERT_TRUE(runtime_.create(sub("a", "http://a/", {})));
  ASSERT_TRUE(publish({make_event("1"), make_event("2"), make_event("3")}));
  std::promise<bool> drained;
  runtime_.shutdown(5s, [&](bool ok) { drained.set_value(ok); });
  auto f = drained.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(runtime_.stats("a")->delivered, 3u);
  auto r = publish({make_event("4")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::shutting_down);
}

TEST_F(SlowRuntimeTest, ShutdownGivesUpAfterTheTimeout) {
  ASSERT_TRUE(runtime_.create(sub("a", "http://a/", {})));
  ASSERT_TRUE(publish({make_event("1"), make_event("2"), make_event("3"), make_event("4")}));
  std::promise<bool> drained;
  auto start = std::chrono::steady_clock::now();
  runtime_.shutdown(150ms, [&](bool ok) { drained.set_value(ok); });
  auto f = drained.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// Size-bounded retention (runtime.h: store_retention_bytes), on the memory store.
TEST_F(SlowRuntimeTest, DurablePublishesAreRefusedWhileUnsettledEventsFillTheSizeCap) {
  RuntimeOptions options{.open_store = [] {
    return Result<std::unique_ptr<store::EventStore>>(store::make_memory_store());
  }};
  options.store_retention_bytes = 1;
  Runtime runtime(io_.get_executor(), options, sinks_);
  auto durable = sub("d", "http://capped/", {});
  durable.durable = true;
  ASSERT_TRUE(runtime.create(durable));
  std::vector<EventPtr> one{make_event("1")}, two{make_event("2")};
  ASSERT_TRUE(runtime.publish(one));  // an empty log is under the cap
  auto full = runtime.publish(two);   // "1" is still at the sink (100 ms): not settled
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::unavailable);
  EXPECT_NE(full.error().message.find("the event store is full"), std::string::npos);
  EXPECT_NE(full.error().message.find("subscription 'd' has not settled"), std::string::npos);
  for (int i = 0; i < 200 && runtime.stats("d")->delivered < 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(runtime.publish(two));  // settled now: trimmed, so there is room again
}

// Duplicate suppression (runtime.h: dedup_window): each test runs its own Runtime.
EventPtr from_source(std::string id, std::string source) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", std::move(id)).set("source", std::move(source)).set("type", "t");
  return std::move(b).build().value();
}

std::vector<std::string> delivered_ids(ScriptedSink& sink) {
  std::vector<std::string> ids;
  for (const auto& call : sink.calls()) ids.push_back(call.ev->id());
  return ids;
}

TEST_F(RuntimeTest, DuplicatesAreAckedButNotDeliveredAgain) {
  Runtime runtime(io_.get_executor(), {.dedup_window = 1h}, sinks_);
  ASSERT_TRUE(runtime.create(sub("all", "http://dedup/", {})));
  std::vector<EventPtr> first{make_event("1")}, again{make_event("1")},
      mixed{make_event("2"), make_event("1"), from_source("1", "/elsewhere")};
  EXPECT_EQ(runtime.publish(first)->deliveries, 1u);
  auto dup = runtime.publish(again);
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->events, 1u);
  EXPECT_EQ(dup->duplicates, 1u);
  EXPECT_EQ(dup->deliveries, 0u);
  auto part = runtime.publish(mixed);  // the same id from another source is another event
  ASSERT_TRUE(part);
  EXPECT_EQ(part->events, 3u);
  EXPECT_EQ(part->duplicates, 1u);
  EXPECT_EQ(part->deliveries, 2u);
  auto sink = sinks_.at("http://dedup/");
  ASSERT_TRUE(sink->wait_calls(3));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(delivered_ids(*sink), (std::vector<std::string>{"1", "2", "1"}));
}

TEST_F(RuntimeTest, DuplicateSuppressionIsBoundedByWindowAndMaxKeys) {
  Runtime runtime(io_.get_executor(), {.dedup_window = 200ms, .dedup_max_keys = 2}, sinks_);
  ASSERT_TRUE(runtime.create(sub("all", "http://bounded/", {})));
  auto publish_one = [&](std::string id) {
    std::vector<EventPtr> batch{make_event(std::move(id))};
    return runtime.publish(batch)->deliveries;
  };
  EXPECT_EQ(publish_one("a"), 1u);
  EXPECT_EQ(publish_one("b"), 1u);
  EXPECT_EQ(publish_one("c"), 1u);  // over max_keys: "a" is forgotten
  EXPECT_EQ(publish_one("c"), 0u);
  EXPECT_EQ(publish_one("a"), 1u);
  std::this_thread::sleep_for(250ms);  // past the window
  EXPECT_EQ(publish_one("a"), 1u);
}

TEST_F(SlowRuntimeTest, ABatchLargerThanAQueueIsTooLargeNotOverloaded) {
  ASSERT_TRUE(runtime_.create(sub("roomy", "http://a/", {}, 100)));
  ASSERT_TRUE(runtime_.create(sub("tight", "http://b/", {}, 2)));
  auto r = publish({make_event("1"), make_event("2"), make_event("3")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_EQ(r.error().message,
            "the batch needs 3 places in the delivery queue of subscription 'tight', which holds 2 "
            "(delivery.queuecapacity): publish smaller batches");
  EXPECT_EQ(runtime_.stats("roomy")->queued + runtime_.stats("roomy")->in_flight, 0u);
  // As many as the queue holds still go.
  EXPECT_TRUE(publish({make_event("4"), make_event("5")}));
}

TEST_F(SlowRuntimeTest, AFailedPublishIsNotTakenForADuplicateWhenRetried) {
  Runtime runtime(io_.get_executor(), {.dedup_window = 1h}, sinks_);
  ASSERT_TRUE(runtime.create(sub("tight", "http://retried/", {}, 1)));
  std::vector<EventPtr> one{make_event("1")}, two{make_event("2")};
  ASSERT_TRUE(runtime.publish(one));
  auto full = runtime.publish(two);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::overloaded);
  for (int i = 0; i < 200 && runtime.stats("tight")->delivered < 1; ++i) std::this_thread::sleep_for(10ms);
  auto retried = runtime.publish(two);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->duplicates, 0u);
  auto sink = sinks_.at("http://retried/");
  ASSERT_TRUE(sink->wait_calls(2));
  EXPECT_EQ(delivered_ids(*sink), (std::vector<std::string>{"1", "2"}));
}

}  // namespace
}  // namespace evmesh
