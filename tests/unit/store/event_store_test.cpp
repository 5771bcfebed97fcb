// One test body for every EventStore implementation.
#include <gtest/gtest.h>

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

struct MemoryFactory {
  static std::unique_ptr<EventStore> make() { return make_memory_store(); }
};

template <typename Factory>
class EventStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventStore> store_ = Factory::make();
};

using Implementations = ::testing::Types<MemoryFactory>;
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
  ASSERT_TRUE(this->store_->commit("a", 5));
  ASSERT_TRUE(this->store_->commit("a", 3));
  ASSERT_TRUE(this->store_->commit("b", 2));
  EXPECT_EQ(this->store_->committed("a"), 5u);
  EXPECT_EQ(this->store_->committed("b"), 2u);
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

TYPED_TEST(EventStoreTest, DataIsSharedNotCopied) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "x").set("source", "/s").set("type", "t").data(Bytes("payload"));
  auto ev = std::move(b).build().value();
  std::vector<EventPtr> batch{ev};
  ASSERT_TRUE(this->store_->append(batch));
  auto read = this->store_->read(0, 1).value();
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].event->data().get(), ev->data().get());
}

}  // namespace
}  // namespace evmesh::store
