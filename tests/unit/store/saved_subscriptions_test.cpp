// Saved API subscriptions (EventStore::save_subscription and friends): one body for
// every EventStore, plus what only the embedded store promises: they survive a reopen.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "evmesh/store/event_store.h"

namespace evmesh::store {
namespace {

std::filesystem::path fresh_dir() {
  static int counter = 0;
  auto path = std::filesystem::temp_directory_path() /
              ("evmesh-saved-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path);
  return path;
}

struct Memory {
  std::unique_ptr<EventStore> make() { return make_memory_store(); }
};

struct Embedded {
  std::filesystem::path dir = fresh_dir();
  ~Embedded() { std::filesystem::remove_all(dir); }
  std::unique_ptr<EventStore> make() { return open_embedded_store({dir}).value(); }
};

template <typename Factory>
class SavedSubscriptionsTest : public ::testing::Test {
 protected:
  Factory factory_;
  std::unique_ptr<EventStore> store_ = factory_.make();

  std::vector<std::pair<std::string, std::string>> saved() {
    std::vector<std::pair<std::string, std::string>> out;
    auto saved = store_->saved_subscriptions().value();  // not a temporary's value(): it dangles
    for (auto& s : saved) out.emplace_back(s.id, s.spec);
    return out;
  }
};

using Implementations = ::testing::Types<Memory, Embedded>;
TYPED_TEST_SUITE(SavedSubscriptionsTest, Implementations);

TYPED_TEST(SavedSubscriptionsTest, SavedAreListedInIdOrderAndReplaced) {
  EXPECT_TRUE(this->saved().empty());
  ASSERT_TRUE(this->store_->save_subscription("b", "{\"v\":1}"));
  ASSERT_TRUE(this->store_->save_subscription("a", "{}"));
  ASSERT_TRUE(this->store_->save_subscription("b", "{\"v\":2}"));
  using Saved = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(this->saved(), (Saved{{"a", "{}"}, {"b", "{\"v\":2}"}}));
}

TYPED_TEST(SavedSubscriptionsTest, EraseAndForgetRemoveOnlyTheirOwn) {
  ASSERT_TRUE(this->store_->save_subscription("a", "1"));
  ASSERT_TRUE(this->store_->save_subscription("ab", "2"));
  ASSERT_TRUE(this->store_->save_subscription("c", "3"));
  ASSERT_TRUE(this->store_->commit("a", 0));
  ASSERT_TRUE(this->store_->erase_subscription("c"));
  ASSERT_TRUE(this->store_->erase_subscription("missing"));  // nothing to do, no error
  ASSERT_TRUE(this->store_->forget("a"));  // the subscription was deleted: cursor and spec
  EXPECT_FALSE(this->store_->cursor("a"));
  using Saved = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(this->saved(), (Saved{{"ab", "2"}}));
}

TYPED_TEST(SavedSubscriptionsTest, SavedSubscriptionsAreNotConsumersOrEvents) {
  ASSERT_TRUE(this->store_->save_subscription("a", "spec"));
  EXPECT_FALSE(this->store_->cursor("a"));
  EXPECT_EQ(this->store_->last_offset(), 0u);
  EXPECT_TRUE(this->store_->read(0, 10).value().empty());
  EXPECT_TRUE(this->store_->dlq_list("a", 0, 10).value().empty());
}

TEST(EmbeddedSavedSubscriptionsTest, SurviveAReopenAndMarkTheDirectoryAsAStore) {
  Embedded embedded;
  EXPECT_FALSE(embedded_store_exists(embedded.dir));
  {
    auto store = embedded.make();
    ASSERT_TRUE(store->save_subscription("kept", "spec-1"));
    ASSERT_TRUE(store->save_subscription("gone", "spec-2"));
    ASSERT_TRUE(store->forget("gone"));
  }
  EXPECT_TRUE(embedded_store_exists(embedded.dir));
  auto store = embedded.make();
  auto saved = store->saved_subscriptions().value();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].id, "kept");
  EXPECT_EQ(saved[0].spec, "spec-1");
}

}  // namespace
}  // namespace evmesh::store
