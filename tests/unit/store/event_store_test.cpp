// One test body for every EventStore implementation, plus what only the embedded
// store promises: everything survives a reopen.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "evmesh/store/event_store.h"

namespace evmesh::store {
namespace {

EventPtr make_event(int n) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", std::to_string(n)).set("source", "/test").set("type", "t");
  return std::move(b).build().value();
}

std::vector<EventPtr> events(int from, int count) {
  std::vector<EventPtr> out;
  for (int i = 0; i < count; ++i) out.push_back(make_event(from + i));
  return out;
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    auto name = "evmesh-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

struct MemoryFactory {
  std::unique_ptr<EventStore> make() { return make_memory_store(); }
};

struct EmbeddedFactory {
  TempDir dir;
  std::unique_ptr<EventStore> make() { return open_embedded_store({dir.path()}).value(); }
};

template <typename Factory>
class EventStoreTest : public ::testing::Test {
 protected:
  Factory factory_;
  std::unique_ptr<EventStore> store_ = factory_.make();
};

using Implementations = ::testing::Types<MemoryFactory, EmbeddedFactory>;
TYPED_TEST_SUITE(EventStoreTest, Implementations);

TYPED_TEST(EventStoreTest, EmptyStoreHasNoEvents) {
  EXPECT_EQ(this->store_->last_offset(), 0u);
  EXPECT_EQ(this->store_->first_offset(), 1u);
  EXPECT_TRUE(this->store_->read(0, 10).value().empty());
}

TYPED_TEST(EventStoreTest, AppendAssignsConsecutiveOffsets) {
  auto batch = events(1, 3);
  EXPECT_EQ(this->store_->append(batch).value(), 3u);
  auto more = events(4, 2);
  EXPECT_EQ(this->store_->append(more).value(), 5u);
  auto read = this->store_->read(0, 100).value();
  ASSERT_EQ(read.size(), 5u);
  for (std::size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].offset, i + 1);
    EXPECT_EQ(read[i].event->id(), std::to_string(i + 1));
  }
}

TYPED_TEST(EventStoreTest, ReadStartsAfterCursorAndHonoursMax) {
  auto batch = events(1, 10);
  ASSERT_TRUE(this->store_->append(batch));
  auto read = this->store_->read(4, 3).value();
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.front().offset, 5u);
  EXPECT_EQ(read.back().offset, 7u);
  EXPECT_TRUE(this->store_->read(10, 3).value().empty());
}

TYPED_TEST(EventStoreTest, CommitIsPerConsumerAndMonotonic) {
  EXPECT_EQ(this->store_->committed("a"), 0u);
  EXPECT_FALSE(this->store_->cursor("a").has_value());
  ASSERT_TRUE(this->store_->commit("a", 5));
  ASSERT_TRUE(this->store_->commit("a", 3));
  ASSERT_TRUE(this->store_->commit("b", 2));
  EXPECT_EQ(this->store_->committed("a"), 5u);
  EXPECT_EQ(this->store_->committed("b"), 2u);
}

TYPED_TEST(EventStoreTest, CursorZeroDiffersFromNoCursorAndForgetRemovesIt) {
  ASSERT_TRUE(this->store_->commit("a", 0));
  EXPECT_EQ(this->store_->cursor("a"), std::optional<std::uint64_t>(0));
  ASSERT_TRUE(this->store_->forget("a"));
  EXPECT_FALSE(this->store_->cursor("a").has_value());
  EXPECT_TRUE(this->store_->forget("never-there"));
}

TYPED_TEST(EventStoreTest, DeadLettersArePerConsumerListedInIdOrderAndErasable) {
  auto& store = *this->store_;
  ASSERT_TRUE(store.dlq_put("a", 7, make_event(7)));
  ASSERT_TRUE(store.dlq_put("a", 3, make_event(3)));
  ASSERT_TRUE(store.dlq_put("ab", 5, make_event(5)));  // a prefix of nothing else's
  ASSERT_TRUE(store.dlq_put("a", 3, make_event(33)));  // replaces
  auto listed = store.dlq_list("a", 0, 10).value();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].offset, 3u);
  EXPECT_EQ(listed[0].event->id(), "33");
  EXPECT_EQ(listed[1].offset, 7u);
  EXPECT_EQ(store.dlq_list("a", 3, 10).value().size(), 1u);
  EXPECT_EQ(store.dlq_list("a", 0, 1).value().size(), 1u);
  EXPECT_EQ(store.dlq_get("a", 7).value()->id(), "7");
  EXPECT_EQ(store.dlq_get("a", 5).error().code, Errc::not_found);
  EXPECT_TRUE(store.dlq_erase("a", 7).value());
  EXPECT_FALSE(store.dlq_erase("a", 7).value());
  EXPECT_EQ(store.dlq_list("a", 0, 10).value().size(), 1u);
  ASSERT_TRUE(store.forget("a"));
  EXPECT_TRUE(store.dlq_list("a", 0, 10).value().empty());
  EXPECT_EQ(store.dlq_list("ab", 0, 10).value().size(), 1u);
}

TYPED_TEST(EventStoreTest, TrimDropsOldestAndKeepsOffsets) {
  auto batch = events(1, 5);
  ASSERT_TRUE(this->store_->append(batch));
  EXPECT_EQ(this->store_->trim(2).value(), 2u);
  EXPECT_EQ(this->store_->first_offset(), 3u);
  EXPECT_EQ(this->store_->last_offset(), 5u);
  auto read = this->store_->read(0, 10).value();
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.front().offset, 3u);
  EXPECT_EQ(read.front().event->id(), "3");
  auto more = events(6, 1);
  EXPECT_EQ(this->store_->append(more).value(), 6u);
}

TYPED_TEST(EventStoreTest, RewindMovesACursorBack) {
  ASSERT_TRUE(this->store_->commit("a", 5));
  ASSERT_TRUE(this->store_->rewind("a", 2));
  EXPECT_EQ(this->store_->committed("a"), 2u);
  ASSERT_TRUE(this->store_->commit("a", 3));  // monotonic again from there
  EXPECT_EQ(this->store_->committed("a"), 3u);
  ASSERT_TRUE(this->store_->rewind("new", 0));
  EXPECT_EQ(this->store_->cursor("new"), std::optional<std::uint64_t>(0));
}

TYPED_TEST(EventStoreTest, OffsetAtFindsTheFirstEventAppendedAtOrAfterATime) {
  using namespace std::chrono_literals;
  auto& store = *this->store_;
  const auto before = std::chrono::system_clock::now() - 1h;
  EXPECT_EQ(store.offset_at(before).value(), 1u);  // empty: last_offset() + 1
  auto first = events(1, 3);
  ASSERT_TRUE(store.append(first));
  std::this_thread::sleep_for(5ms);
  const auto between = std::chrono::system_clock::now();
  std::this_thread::sleep_for(5ms);
  auto second = events(4, 2);
  ASSERT_TRUE(store.append(second));
  EXPECT_EQ(store.offset_at(before).value(), 1u);
  EXPECT_EQ(store.offset_at(between).value(), 4u);
  EXPECT_EQ(store.offset_at(std::chrono::system_clock::now() + 1h).value(), 6u);
  // Trimmed events are not found; a partly trimmed batch answers its retained part.
  ASSERT_TRUE(store.trim(2));
  EXPECT_EQ(store.offset_at(before).value(), 3u);
  ASSERT_TRUE(store.trim(4));
  EXPECT_EQ(store.offset_at(before).value(), 5u);
  EXPECT_EQ(store.offset_at(between).value(), 5u);
}

TYPED_TEST(EventStoreTest, TrimEverythingKeepsNumbering) {
  auto batch = events(1, 3);
  ASSERT_TRUE(this->store_->append(batch));
  EXPECT_EQ(this->store_->trim(100).value(), 3u);
  EXPECT_EQ(this->store_->first_offset(), 4u);
  EXPECT_EQ(this->store_->last_offset(), 3u);
  EXPECT_TRUE(this->store_->read(0, 10).value().empty());
  auto more = events(4, 1);
  EXPECT_EQ(this->store_->append(more).value(), 4u);
}

TYPED_TEST(EventStoreTest, KeepsEveryAttributeAndTheData) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "x").set("source", "/s").set("type", "t")
      .set("subject", "sub").set("time", "2026-01-02T03:04:05Z").set("datacontenttype", "text/plain")
      .set("partitionkey", "k1").set("count", "42", JsonKind::integer)
      .set("flag", "true", JsonKind::boolean).data(Bytes("pay\0load", 8));
  auto ev = std::move(b).build().value();
  std::vector<EventPtr> batch{ev};
  ASSERT_TRUE(this->store_->append(batch));
  auto read = this->store_->read(0, 1).value();
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(*read[0].event, *ev);
  EXPECT_EQ(read[0].event->extensions().at("count").kind, JsonKind::integer);
  EXPECT_EQ(read[0].event->extensions().at("flag").kind, JsonKind::boolean);
}

// Events 1..9 have one-digit ids, so their records all have one size.
TYPED_TEST(EventStoreTest, BytesCountRetainedBatchesWhole) {
  auto& store = *this->store_;
  EXPECT_EQ(store.bytes(), 0u);
  auto one = events(1, 1);
  ASSERT_TRUE(store.append(one));
  const auto unit = store.bytes();
  ASSERT_GT(unit, 0u);
  auto three = events(2, 3);
  ASSERT_TRUE(store.append(three));
  EXPECT_EQ(store.bytes(), 4 * unit);
  ASSERT_TRUE(store.trim(2));  // part of the second batch: it counts whole
  EXPECT_EQ(store.bytes(), 3 * unit);
  ASSERT_TRUE(store.trim(4));
  EXPECT_EQ(store.bytes(), 0u);
  auto again = events(5, 1);
  ASSERT_TRUE(store.append(again));
  EXPECT_EQ(store.bytes(), unit);
}

TYPED_TEST(EventStoreTest, OffsetToFitCutsWholeBatchesOldestFirst) {
  auto& store = *this->store_;
  EXPECT_EQ(store.offset_to_fit(0).value(), 0u);  // empty: fits
  auto a = events(1, 2), b = events(3, 1), c = events(4, 3);  // batches [1,2] [3] [4..6]
  ASSERT_TRUE(store.append(a));
  const auto unit = store.bytes() / 2;
  ASSERT_TRUE(store.append(b));
  ASSERT_TRUE(store.append(c));
  ASSERT_EQ(store.bytes(), 6 * unit);
  EXPECT_EQ(store.offset_to_fit(6 * unit).value(), 0u);
  EXPECT_EQ(store.offset_to_fit(6 * unit - 1).value(), 2u);
  EXPECT_EQ(store.offset_to_fit(4 * unit).value(), 2u);
  EXPECT_EQ(store.offset_to_fit(3 * unit).value(), 3u);
  EXPECT_EQ(store.offset_to_fit(3 * unit - 1).value(), 6u);  // the last batch alone is too big
  EXPECT_EQ(store.offset_to_fit(0).value(), 6u);
  ASSERT_TRUE(store.trim(store.offset_to_fit(4 * unit).value()));
  EXPECT_EQ(store.bytes(), 4 * unit);
  EXPECT_EQ(store.offset_to_fit(4 * unit).value(), 2u);  // first_offset() - 1
  ASSERT_TRUE(store.trim(4));  // into the last batch
  EXPECT_EQ(store.bytes(), 3 * unit);
  EXPECT_EQ(store.offset_to_fit(3 * unit).value(), 4u);
  EXPECT_EQ(store.offset_to_fit(unit).value(), 6u);
}

TEST(MemoryStoreTest, DataIsSharedNotCopied) {
  auto store = make_memory_store();
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "x").set("source", "/s").set("type", "t").data(Bytes("payload"));
  auto ev = std::move(b).build().value();
  std::vector<EventPtr> batch{ev};
  ASSERT_TRUE(store->append(batch));
  auto read = store->read(0, 1).value();
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].event->data().get(), ev->data().get());
}

class EmbeddedStoreTest : public ::testing::TestWithParam<CommitPolicy> {
 protected:
  TempDir dir_;
};

TEST_P(EmbeddedStoreTest, ReopenKeepsEventsCursorsAndOffsets) {
  {
    auto store = open_embedded_store({dir_.path(), GetParam()}).value();
    auto batch = events(1, 5);
    ASSERT_TRUE(store->append(batch));
    ASSERT_TRUE(store->commit("sub", 2));
    ASSERT_TRUE(store->trim(1));
    ASSERT_TRUE(store->dlq_put("sub", 2, make_event(2)));
  }
  auto store = open_embedded_store({dir_.path(), GetParam()}).value();
  EXPECT_EQ(store->first_offset(), 2u);
  EXPECT_EQ(store->last_offset(), 5u);
  EXPECT_EQ(store->cursor("sub"), std::optional<std::uint64_t>(2));
  auto read = store->read(store->committed("sub"), 10).value();
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read.front().event->id(), "3");
  EXPECT_EQ(store->dlq_get("sub", 2).value()->id(), "2");
}

TEST_P(EmbeddedStoreTest, ReopenAfterTrimmingEverythingKeepsNumbering) {
  {
    auto store = open_embedded_store({dir_.path(), GetParam()}).value();
    auto batch = events(1, 3);
    ASSERT_TRUE(store->append(batch));
    ASSERT_TRUE(store->trim(3));
  }
  auto store = open_embedded_store({dir_.path(), GetParam()}).value();
  EXPECT_EQ(store->first_offset(), 4u);
  auto more = events(4, 1);
  EXPECT_EQ(store->append(more).value(), 4u);
}

TEST_P(EmbeddedStoreTest, ReopenKeepsTheSizeOfTheLog) {
  std::uint64_t unit = 0;
  {
    auto store = open_embedded_store({dir_.path(), GetParam()}).value();
    auto a = events(1, 1), b = events(2, 3);
    ASSERT_TRUE(store->append(a));
    unit = store->bytes();
    ASSERT_TRUE(store->append(b));
    ASSERT_TRUE(store->trim(2));  // into the second batch
  }
  {
    auto store = open_embedded_store({dir_.path(), GetParam()}).value();
    EXPECT_EQ(store->bytes(), 3 * unit);
    EXPECT_EQ(store->offset_to_fit(3 * unit).value(), 2u);
    EXPECT_EQ(store->offset_to_fit(unit).value(), 4u);
    ASSERT_TRUE(store->trim(4));
  }
  auto store = open_embedded_store({dir_.path(), GetParam()}).value();
  EXPECT_EQ(store->bytes(), 0u);  // everything trimmed
  auto more = events(5, 1);
  ASSERT_TRUE(store->append(more));
  EXPECT_EQ(store->bytes(), unit);
}

INSTANTIATE_TEST_SUITE_P(CommitPolicies, EmbeddedStoreTest,
                         ::testing::Values(CommitPolicy::group, CommitPolicy::interval,
                                           CommitPolicy::none));

TEST(EmbeddedStoreOpenTest, UnusableDirectoryIsAnErrorNamingIt) {
  auto result = open_embedded_store({"/proc/evmesh-no-such-dir"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::unavailable);
  EXPECT_NE(result.error().message.find("/proc/evmesh-no-such-dir"), std::string::npos);
}

}  // namespace
}  // namespace evmesh::store
