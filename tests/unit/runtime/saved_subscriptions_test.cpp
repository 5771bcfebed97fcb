// Runtime: durable API subscriptions are saved in the store with the API call, and
// only they (YAML ones are owned by the config, transient ones live in memory).
#include <filesystem>
#include <thread>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "evmesh/runtime/runtime.h"
#include "scripted_sink.h"

namespace evmesh {
namespace {

class AckingSinks final : public SinkFactory {
 public:
  explicit AckingSinks(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  Result<std::shared_ptr<Sink>> make(const SinkSpec&) override {
    return std::make_shared<testing::ScriptedSink>(ex_,
                                                   [](const Event&, int) { return testing::ok(); });
  }

 private:
  boost::asio::any_io_executor ex_;
};

class SavedSubscriptionsTest : public ::testing::Test {
 protected:
  SavedSubscriptionsTest() : work_(boost::asio::make_work_guard(io_)), sinks_(io_.get_executor()) {
    std::filesystem::remove_all(dir_);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SavedSubscriptionsTest() override {
    runtime_.reset();
    work_.reset();
    io_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  // A daemon (re)starting on the same data directory.
  Runtime& start() {
    runtime_.reset();
    RuntimeOptions options;
    options.open_store = [this] { return store::open_embedded_store({dir_}); };
    options.encode_saved = [](const Subscription& s) { return s.sink.uri; };
    runtime_ = std::make_unique<Runtime>(io_.get_executor(), std::move(options), sinks_);
    return *runtime_;
  }

  static Subscription sub(std::string id, bool durable, std::string sink = "http://a/",
                          bool yaml = false) {
    Subscription s;
    s.id = std::move(id);
    s.sink.uri = std::move(sink);
    s.durable = durable;
    s.declared_in_config = yaml;
    return s;
  }

  std::vector<std::pair<std::string, std::string>> saved() {
    std::vector<std::pair<std::string, std::string>> out;
    auto saved = runtime_->saved_subscriptions().value();  // not a temporary's value(): it dangles
    for (auto& s : saved) out.emplace_back(s.id, s.spec);
    return out;
  }

  using Saved = std::vector<std::pair<std::string, std::string>>;
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("evmesh-runtime-saved-" + std::to_string(::getpid()));
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  AckingSinks sinks_;
  std::thread thread_;
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(SavedSubscriptionsTest, OnlyDurableApiSubscriptionsAreSaved) {
  auto& rt = start();
  ASSERT_TRUE(rt.create(sub("api-durable", true)));
  ASSERT_TRUE(rt.create(sub("api-transient", false)));
  ASSERT_TRUE(rt.create(sub("yaml-durable", true, "http://a/", true)));
  EXPECT_EQ(saved(), (Saved{{"api-durable", "http://a/"}}));
}

TEST_F(SavedSubscriptionsTest, ReplaceRewritesOrErasesTheSavedCopy) {
  auto& rt = start();
  ASSERT_TRUE(rt.create(sub("s", true, "http://a/")));
  ASSERT_TRUE(rt.replace("s", sub("s", true, "http://b/")));
  EXPECT_EQ(saved(), (Saved{{"s", "http://b/"}}));
  ASSERT_TRUE(rt.replace("s", sub("s", false, "http://b/")));  // transient now
  EXPECT_TRUE(saved().empty());
}

TEST_F(SavedSubscriptionsTest, RemoveErasesIt) {
  auto& rt = start();
  ASSERT_TRUE(rt.create(sub("s", true)));
  ASSERT_TRUE(rt.remove("s"));
  EXPECT_TRUE(saved().empty());
}

TEST_F(SavedSubscriptionsTest, RestartFindsThemAndRestoreDoesNotSaveAgain) {
  ASSERT_TRUE(start().create(sub("s", true, "http://a/")));
  auto& rt = start();  // the first runtime closed its store
  EXPECT_EQ(saved(), (Saved{{"s", "http://a/"}}));
  EXPECT_TRUE(rt.list().empty());  // restoring is the caller's choice (the daemon decodes)
  ASSERT_TRUE(rt.restore(sub("s", true, "http://restored/")));
  EXPECT_EQ(rt.get("s")->sink.uri, "http://restored/");
  EXPECT_EQ(saved(), (Saved{{"s", "http://a/"}}));  // not written again
}

}  // namespace
}  // namespace evmesh
