#include "evmesh/runtime/dispatcher.h"

#include <algorithm>
#include <ctime>
#include <future>
#include <map>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "evmesh/core/timestamp.h"
#include "scripted_sink.h"

namespace evmesh {
namespace {

using namespace std::chrono_literals;
using testing::make_event;
using testing::ScriptedSink;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~DispatcherTest() override {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  DeliveryPolicy fast_policy() {
    DeliveryPolicy p;
    p.retry.max_attempts = 4;
    p.retry.initial_backoff = 5ms;
    p.retry.max_backoff = 20ms;
    p.retry.max_age = 10s;
    p.queue_capacity = 100;
    return p;
  }

  std::shared_ptr<Dispatcher> make(DeliveryPolicy policy, std::shared_ptr<Sink> sink,
                                   std::shared_ptr<Sink> dead_letter = nullptr) {
    return std::make_shared<Dispatcher>(io_.get_executor(), "sub-1", policy, std::move(sink),
                                        std::move(dead_letter));
  }

  // The sink answers before the dispatcher books the outcome on its strand: wait
  // for the dispatcher itself to be idle before reading its counters.
  static void wait_idle(Dispatcher& d) {
    std::promise<void> idle;
    d.when_idle([&] { idle.set_value(); });
    ASSERT_EQ(idle.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  }

  void push(Dispatcher& d, EventPtr ev) {
    ASSERT_TRUE(d.try_reserve());
    d.push(std::move(ev), Dispatcher::Clock::now());
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

TEST_F(DispatcherTest, DeliversInOrderOneAtATime) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 1ms);
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 20; ++i) push(*d, make_event(std::to_string(i)));
  ASSERT_TRUE(sink->wait_calls(20));
  auto calls = sink->calls();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(calls[i].ev->id(), std::to_string(i));
  EXPECT_EQ(sink->max_in_flight(), 1);
  wait_idle(*d);
  EXPECT_EQ(d->stats().delivered, 20u);
}

TEST_F(DispatcherTest, ParallelDeliveryUpToConcurrency) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 20ms);
  auto policy = fast_policy();
  policy.concurrency = 4;
  auto d = make(policy, sink);
  for (int i = 0; i < 12; ++i) push(*d, make_event(std::to_string(i)));
  ASSERT_TRUE(sink->wait_calls(12));
  EXPECT_EQ(sink->max_in_flight(), 4);
}

TEST_F(DispatcherTest, RetriesUntilDelivered) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event&, int attempt) {
    return attempt < 3 ? testing::retry(503) : testing::ok();
  });
  auto d = make(fast_policy(), sink);
  push(*d, make_event("a"));
  ASSERT_TRUE(sink->wait_calls(3));
  wait_idle(*d);
  auto s = d->stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.dead_lettered, 0u);
  EXPECT_EQ(sink->calls().size(), 3u);
}

TEST_F(DispatcherTest, KeepsOrderWhileRetryingTheHead) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event& ev, int attempt) {
    return ev.id() == "0" && attempt < 3 ? testing::retry(500) : testing::ok();
  });
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 3; ++i) push(*d, make_event(std::to_string(i)));
  ASSERT_TRUE(sink->wait_calls(5));
  std::vector<std::string> ids;
  for (auto& c : sink->calls()) ids.push_back(c.ev->id());
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "0", "0", "1", "2"}));
}

TEST_F(DispatcherTest, ExhaustedAttemptsGoToDeadLetterWithFailureAttributes) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event&, int) {
    return testing::retry(502, "bad gateway\nfrom upstream");
  });
  auto dlq = std::make_shared<ScriptedSink>(io_.get_executor(),
                                            [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink, dlq);
  push(*d, make_event("x"));
  ASSERT_TRUE(dlq->wait_calls(1));
  EXPECT_EQ(sink->calls().size(), 4u);
  auto dead = dlq->calls().at(0).ev;
  EXPECT_EQ(dead->id(), "x");
  EXPECT_EQ(*dead->attribute("deadletterreason"), "maxattempts");
  EXPECT_EQ(*dead->attribute("deadletterstatus"), "502");
  EXPECT_EQ(dead->extensions().at("deadletterstatus").kind, JsonKind::integer);
  EXPECT_EQ(*dead->attribute("deadletterattempts"), "4");
  EXPECT_EQ(*dead->attribute("deadlettererror"), "bad gateway from upstream");
  EXPECT_EQ(*dead->attribute("deadlettersub"), "sub-1");
  EXPECT_EQ(*dead->data(), "{\"n\":1}");
  wait_idle(*d);
  EXPECT_EQ(d->stats().dead_lettered, 1u);
}

TEST_F(DispatcherTest, PermanentFailureIsDeadLetteredAtOnce) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::permanent(404); });
  auto dlq = std::make_shared<ScriptedSink>(io_.get_executor(),
                                            [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink, dlq);
  push(*d, make_event("p"));
  ASSERT_TRUE(dlq->wait_calls(1));
  EXPECT_EQ(sink->calls().size(), 1u);
  auto dead = dlq->calls().at(0).ev;
  EXPECT_EQ(*dead->attribute("deadletterreason"), "permanent");
  EXPECT_EQ(*dead->attribute("deadletterstatus"), "404");
  EXPECT_EQ(*dead->attribute("deadletterattempts"), "1");
}

TEST_F(DispatcherTest, EventAgeLimitStopsRetries) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::retry(503); });
  auto dlq = std::make_shared<ScriptedSink>(io_.get_executor(),
                                            [](const Event&, int) { return testing::ok(); });
  auto policy = fast_policy();
  policy.retry.max_attempts = 1000;
  policy.retry.initial_backoff = 30ms;
  policy.retry.max_backoff = 30ms;
  policy.retry.max_age = 100ms;
  auto d = make(policy, sink, dlq);
  push(*d, make_event("old"));
  ASSERT_TRUE(dlq->wait_calls(1));
  EXPECT_EQ(*dlq->calls().at(0).ev->attribute("deadletterreason"), "maxage");
  EXPECT_LE(sink->calls().size(), 8u);
}

TEST_F(DispatcherTest, RetryAfterIsHonoured) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event&, int attempt) {
    return attempt == 1 ? testing::retry(429, "slow down", 150ms) : testing::ok();
  });
  auto d = make(fast_policy(), sink);
  push(*d, make_event("r"));
  ASSERT_TRUE(sink->wait_calls(2));
  auto calls = sink->calls();
  EXPECT_GE(calls[1].at - calls[0].at, 150ms);
}

TEST_F(DispatcherTest, WithoutDeadLetterSinkTheEventIsDroppedAndCounted) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::permanent(400); });
  auto d = make(fast_policy(), sink);
  push(*d, make_event("d"));
  ASSERT_TRUE(sink->wait_calls(1));
  wait_idle(*d);
  EXPECT_EQ(d->stats().dropped, 1u);
}

TEST_F(DispatcherTest, FullQueueRefusesReservations) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 200ms);
  auto policy = fast_policy();
  policy.queue_capacity = 3;
  auto d = make(policy, sink);
  EXPECT_TRUE(d->try_reserve());
  EXPECT_TRUE(d->try_reserve());
  EXPECT_TRUE(d->try_reserve());
  EXPECT_FALSE(d->try_reserve());
  d->release();
  EXPECT_TRUE(d->try_reserve());
  for (int i = 0; i < 3; ++i) d->push(make_event(std::to_string(i)), Dispatcher::Clock::now());
  EXPECT_FALSE(d->try_reserve());
  ASSERT_TRUE(sink->wait_calls(3));
  wait_idle(*d);
  EXPECT_TRUE(d->try_reserve());
}

TEST_F(DispatcherTest, WhenIdleFiresAfterTheLastDelivery) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 5ms);
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 5; ++i) push(*d, make_event(std::to_string(i)));
  std::promise<std::size_t> delivered;
  d->when_idle([&] { delivered.set_value(d->stats().delivered); });
  auto f = delivered.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get(), 5u);
}

TEST_F(DispatcherTest, StopDropsWhatIsQueued) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 200ms);
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 5; ++i) push(*d, make_event(std::to_string(i)));
  auto until = [](auto done) {
    for (auto end = std::chrono::steady_clock::now() + 5s; !done();) {
      ASSERT_LT(std::chrono::steady_clock::now(), end);
      std::this_thread::sleep_for(1ms);
    }
  };
  until([&] { return sink->calls().size() == 1; });  // the first is in flight
  d->stop();
  until([&] { return d->stats().dropped == 5; });
  auto s = d->stats();
  EXPECT_EQ(sink->calls().size(), 1u);
  EXPECT_EQ(s.dropped, 5u);  // four never sent, one in flight when stopped
  EXPECT_EQ(s.queued, 0u);
}

// A pipelining sink (ordered_window > 1): several events in flight, still in order.
TEST_F(DispatcherTest, PipeliningSinkGetsSeveralInFlightInOrder) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); }, 1ms);
  sink->set_window(8);
  auto d = make(fast_policy(), sink);
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    push(*d, make_event(std::to_string(i)));
    expected.push_back(std::to_string(i));
  }
  ASSERT_TRUE(sink->wait_calls(40));
  EXPECT_EQ(sink->ids(), expected);
  EXPECT_GT(sink->max_in_flight(), 1);
  EXPECT_LE(sink->max_in_flight(), 8);
  wait_idle(*d);
  EXPECT_EQ(d->stats().delivered, 40u);
}

// Event 2 fails while 3.. are in flight behind it: those are sent again after 2's
// retry, so from the retry on the sink sees every event in order.
TEST_F(DispatcherTest, PipelinedFailureResendsTheFollowersAfterTheRetriedEvent) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event& ev, int attempt) {
    return ev.id() == "2" && attempt == 1 ? testing::retry(503) : testing::ok();
  }, 2ms);
  sink->set_window(4);
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 8; ++i) push(*d, make_event(std::to_string(i)));
  wait_idle(*d);
  auto ids = sink->ids();
  auto first = std::find(ids.begin(), ids.end(), "2");
  ASSERT_NE(first, ids.end());
  EXPECT_EQ(std::vector<std::string>(ids.begin(), first), (std::vector<std::string>{"0", "1"}));
  auto retry = std::find(first + 1, ids.end(), "2");
  ASSERT_NE(retry, ids.end()) << "event 2 was not retried";
  for (auto it = first + 1; it != retry; ++it) EXPECT_GT(std::stoi(*it), 2) << "only followers before the retry";
  EXPECT_EQ(std::vector<std::string>(retry, ids.end()),
            (std::vector<std::string>{"2", "3", "4", "5", "6", "7"}));
  auto s = d->stats();
  EXPECT_EQ(s.delivered, 8u);
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

// A permanent failure mid-window: the event is dead-lettered before its followers
// go again; nothing is lost or counted twice.
TEST_F(DispatcherTest, PipelinedPermanentFailureDeadLettersBeforeTheFollowers) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event& ev, int) {
    return ev.id() == "1" ? testing::permanent(400) : testing::ok();
  }, 2ms);
  sink->set_window(4);
  auto dead = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink, dead);
  for (int i = 0; i < 6; ++i) push(*d, make_event(std::to_string(i)));
  wait_idle(*d);
  ASSERT_EQ(dead->calls().size(), 1u);
  EXPECT_EQ(dead->calls()[0].ev->id(), "1");
  auto calls = sink->calls();
  auto resent = std::find_if(calls.begin(), calls.end(), [](const auto& c) { return c.ev->id() == "2"; });
  resent = std::find_if(resent + 1, calls.end(), [](const auto& c) { return c.ev->id() == "2"; });
  if (resent != calls.end()) {
    EXPECT_GE(resent->at, dead->calls()[0].at);  // 2 was in flight behind 1
  }
  auto s = d->stats();
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST_F(DispatcherTest, StopWithAPipelinedWindowInFlightDropsEverythingOnce) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(), [](const Event& ev, int) {
    return ev.id() == "0" ? testing::retry(503) : testing::ok();
  }, 50ms);
  sink->set_window(4);
  auto d = make(fast_policy(), sink);
  for (int i = 0; i < 10; ++i) push(*d, make_event(std::to_string(i)));
  for (auto end = std::chrono::steady_clock::now() + 5s; sink->calls().size() < 4;) {
    ASSERT_LT(std::chrono::steady_clock::now(), end);
    std::this_thread::sleep_for(1ms);
  }
  d->stop();
  wait_idle(*d);
  auto s = d->stats();
  EXPECT_EQ(s.delivered + s.dropped, 10u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_TRUE(d->try_reserve());
}

TEST_F(DispatcherTest, ManyPublishersOneDispatcherLoseNothing) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto policy = fast_policy();
  policy.queue_capacity = 4000;
  auto d = make(policy, sink);
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) push(*d, make_event(std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& p : publishers) p.join();
  wait_idle(*d);
  EXPECT_EQ(d->stats().delivered, 2000u);
  // Each publisher's events in its own order (one queue, one delivery at a time).
  std::map<std::string, int> last;
  for (const auto& id : sink->ids()) {
    auto dash = id.find('-');
    int n = std::stoi(id.substr(dash + 1));
    auto [it, fresh] = last.try_emplace(id.substr(0, dash), n);
    if (!fresh) {
      EXPECT_GT(n, it->second) << id;
    }
    it->second = n;
  }
}


// ---- per-event TTL (expirytime) ----

EventPtr expiring_event(std::string id, std::string expirytime) {
  EventBuilder b(*make_event(std::move(id)));
  b.set("expirytime", std::move(expirytime));
  return std::move(b).build().value();
}

std::string rfc3339_from_now(std::chrono::milliseconds delta) {
  auto t = std::chrono::system_clock::now() + delta;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + "." + std::to_string(1000 + ms).substr(1) + "Z";
}

TEST(ParseTimestamp, ReadsOffsetsAndFractions) {
  using namespace std::chrono;
  auto utc = parse_timestamp("2027-02-26T10:00:00Z");
  ASSERT_TRUE(utc);
  EXPECT_EQ(*utc, sys_days{2027y / 2 / 26} + 10h);
  EXPECT_EQ(parse_timestamp("2027-02-26T12:30:00+02:30"), utc);
  EXPECT_EQ(*parse_timestamp("2027-02-26T10:00:00.25Z") - *utc, 250ms);
  EXPECT_EQ(parse_timestamp("2027-02-26 10:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("tomorrow"), std::nullopt);
}

TEST_F(DispatcherTest, ExpiredEventIsDeadLetteredUndelivered) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto dlq = std::make_shared<ScriptedSink>(io_.get_executor(),
                                            [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink, dlq);
  push(*d, expiring_event("old", "2001-01-01T00:00:00Z"));
  push(*d, expiring_event("fresh", "2999-01-01T00:00:00Z"));
  ASSERT_TRUE(dlq->wait_calls(1));
  ASSERT_TRUE(sink->wait_calls(1));
  wait_idle(*d);
  ASSERT_EQ(sink->calls().size(), 1u);
  EXPECT_EQ(sink->calls()[0].ev->id(), "fresh");
  auto dead = dlq->calls().at(0).ev;
  EXPECT_EQ(dead->id(), "old");
  EXPECT_EQ(*dead->attribute("deadletterreason"), "expired");
  EXPECT_EQ(*dead->attribute("deadletterattempts"), "0");
  EXPECT_EQ(*dead->attribute("deadlettererror"), "expired at 2001-01-01T00:00:00Z");
  EXPECT_EQ(d->stats().dead_lettered, 1u);
  EXPECT_EQ(d->stats().delivered, 1u);
}

TEST_F(DispatcherTest, EventExpiringWhileRetriedStopsBeforeTheNextAttempt) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::retry(503); });
  auto dlq = std::make_shared<ScriptedSink>(io_.get_executor(),
                                            [](const Event&, int) { return testing::ok(); });
  auto policy = fast_policy();
  policy.retry.max_attempts = 1000;
  auto d = make(policy, sink, dlq);
  push(*d, expiring_event("soon", rfc3339_from_now(150ms)));
  ASSERT_TRUE(dlq->wait_calls(1));
  EXPECT_EQ(*dlq->calls().at(0).ev->attribute("deadletterreason"), "expired");
  EXPECT_GE(sink->calls().size(), 1u);
  EXPECT_LT(sink->calls().size(), 100u);
}

TEST_F(DispatcherTest, ExpiredTransientEventWithoutDeadLetterSinkIsDroppedAndCounted) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink);
  push(*d, expiring_event("old", "2001-01-01T00:00:00Z"));
  wait_idle(*d);
  EXPECT_TRUE(sink->calls().empty());
  EXPECT_EQ(d->stats().dropped, 1u);
}

TEST_F(DispatcherTest, MalformedExpirytimeNeverExpires) {
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto d = make(fast_policy(), sink);
  push(*d, expiring_event("m", "yesterday"));
  ASSERT_TRUE(sink->wait_calls(1));
  wait_idle(*d);
  EXPECT_EQ(d->stats().delivered, 1u);
}

TEST_F(DispatcherTest, ExpiredDurableEventGoesToTheStoreDeadLetterQueue) {
  auto store = store::make_memory_store();
  std::vector<EventPtr> batch{expiring_event("old", "2001-01-01T00:00:00Z")};
  auto offset = store->append(batch);
  ASSERT_TRUE(offset);
  auto sink = std::make_shared<ScriptedSink>(io_.get_executor(),
                                             [](const Event&, int) { return testing::ok(); });
  auto d = std::make_shared<Dispatcher>(io_.get_executor(), "sub-1", fast_policy(), sink, nullptr,
                                        store.get());
  ASSERT_TRUE(d->try_reserve());
  d->push(batch[0], Dispatcher::Clock::now(), *offset);
  wait_idle(*d);
  EXPECT_TRUE(sink->calls().empty());
  auto dead = store->dlq_get("sub-1", *offset);
  ASSERT_TRUE(dead);
  EXPECT_EQ(*(*dead)->attribute("deadletterreason"), "expired");
  EXPECT_EQ(d->durable_cursor(*offset), *offset);  // settled: the cursor may pass it
}

}  // namespace
}  // namespace evmesh
