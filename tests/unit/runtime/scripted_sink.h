// A Sink whose answers a test scripts, to drive the dispatcher's retry logic
// deterministically. Real HTTP sinks are covered by the webhook and integration tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "evmesh/core/sink.h"

namespace evmesh::testing {

class ScriptedSink final : public Sink {
 public:
  using Script = std::function<DeliveryOutcome(const Event&, int attempt)>;
  struct Call {
    EventPtr ev;
    int attempt;
    std::chrono::steady_clock::time_point at;
  };

  ScriptedSink(boost::asio::any_io_executor ex, Script script,
               std::chrono::milliseconds latency = std::chrono::milliseconds(0))
      : ex_(std::move(ex)), script_(std::move(script)), latency_(latency) {}

  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    int attempt;
    {
      std::lock_guard lock(mutex_);
      attempt = ++attempts_[ev->id()];
      calls_.push_back({ev, attempt, std::chrono::steady_clock::now()});
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
    }
    auto outcome = script_(*ev, attempt);
    auto timer = std::make_shared<boost::asio::steady_timer>(ex_, latency_);
    timer->async_wait([this, timer, done = std::move(done), outcome](auto) {
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
      }
      done(outcome);
      cv_.notify_all();
    });
  }
  void close() override {}

  // A pipelining sink: up to `window` ordered sends in flight, answered one after
  // another (each after `latency`) in call order, as an HTTP/1.1 server does.
  void set_window(std::size_t window) { window_ = window; }
  std::size_t ordered_window() const override { return window_; }
  void send_ordered(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    int attempt;
    {
      std::lock_guard lock(mutex_);
      attempt = ++attempts_[ev->id()];
      calls_.push_back({ev, attempt, std::chrono::steady_clock::now()});
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
    }
    auto outcome = script_(*ev, attempt);
    boost::asio::post(strand_, [this, outcome = std::move(outcome), done = std::move(done)]() mutable {
      answers_.emplace_back(std::move(outcome), std::move(done));
      if (answers_.size() == 1) answer_next();
    });
  }

  // Ids of the calls so far, in call order.
  std::vector<std::string> ids() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& c : calls_) out.push_back(c.ev->id());
    return out;
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int max_in_flight() const {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }
  // Waits until `n` sends were made (or the timeout passes); true when reached.
  bool wait_calls(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n && in_flight_ == 0; });
  }

 private:
  void answer_next() {
    auto timer = std::make_shared<boost::asio::steady_timer>(strand_, latency_);
    timer->async_wait([this, timer](auto) {
      auto [outcome, done] = std::move(answers_.front());
      answers_.pop_front();
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
      }
      done(outcome);
      cv_.notify_all();
      if (!answers_.empty()) answer_next();
    });
  }

  boost::asio::any_io_executor ex_;
  boost::asio::strand<boost::asio::any_io_executor> strand_{boost::asio::make_strand(ex_)};
  std::size_t window_ = 1;
  std::deque<std::pair<DeliveryOutcome, std::function<void(DeliveryOutcome)>>> answers_;  // on strand_
  Script script_;
  std::chrono::milliseconds latency_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::map<std::string, int> attempts_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

inline DeliveryOutcome ok() { return {DeliveryOutcome::Kind::delivered, 200, "", std::nullopt}; }
inline DeliveryOutcome retry(int status, std::string error = "server error",
                             std::optional<std::chrono::milliseconds> after = std::nullopt) {
  return {DeliveryOutcome::Kind::retry, status, std::move(error), after};
}
inline DeliveryOutcome permanent(int status, std::string error = "rejected") {
  return {DeliveryOutcome::Kind::permanent, status, std::move(error), std::nullopt};
}

inline EventPtr make_event(std::string id, std::string type = "com.example.test") {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", std::move(id)).set("source", "/test").set("type", std::move(type));
  b.data(Bytes("{\"n\":1}"));
  return std::move(b).build().value();
}

}  // namespace evmesh::testing
