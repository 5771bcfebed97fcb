#include "publish_admission.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "status.h"

namespace evmesh::grpc_adapter {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
constexpr milliseconds kFirstPause{1};
constexpr milliseconds kMaxPause{32};

// One publish waiting for queue space. Registered in ctx.waiters while it waits, so
// that shutdown can end it without the runtime's executor (which may stop first).
// mutex_ makes "publish, then report" and "abort" exclusive: the caller is never
// told UNAVAILABLE about events that were admitted. Lock order: mutex_, then
// ctx.streams_mutex.
class PublishWaiter final : public std::enable_shared_from_this<PublishWaiter> {
 public:
  PublishWaiter(ServiceContext& ctx, grpc::CallbackServerContext* call,
                std::vector<EventPtr> events, PublishDone done, Error overloaded)
      : ctx_(ctx),
        call_(call),
        events_(std::move(events)),
        done_(std::move(done)),
        last_(std::move(overloaded)),
        timer_(ctx.ex) {
    // The earlier of publish_wait and the client's deadline (system clock; "none" is
    // time_point::max, hence comparing before any arithmetic).
    const auto wait = std::chrono::duration_cast<Clock::duration>(ctx.config.publish_wait);
    const auto left = call->deadline() - std::chrono::system_clock::now();
    deadline_first_ = left < wait;
    give_up_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::min<std::chrono::system_clock::duration>(left, wait));
  }

  // Registers and schedules the next attempt; false when shutdown has begun.
  bool start() {
    std::lock_guard lock(ctx_.streams_mutex);
    if (ctx_.stopping) return false;
    ctx_.waiters.insert(shared_from_this());
    schedule();
    return true;
  }

  void abort() {
    std::lock_guard lock(mutex_);
    finish({grpc::StatusCode::UNAVAILABLE, "the broker is shutting down"}, {});
  }

 private:
  void schedule() {
    const auto now = Clock::now();
    timer_.expires_after(std::max<Clock::duration>(
        Clock::duration::zero(), std::min<Clock::duration>(pause_, give_up_ - now)));
    pause_ = std::min(pause_ * 2, kMaxPause);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->attempt(); });
  }

  void attempt() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    if (stopping())
      return finish({grpc::StatusCode::UNAVAILABLE, "the broker is shutting down"}, {});
    if (Clock::now() >= give_up_) return give_up();
    if (call_->IsCancelled())
      return finish(
          {grpc::StatusCode::CANCELLED, "the client cancelled while waiting for queue space"}, {});
    auto receipt = ctx_.runtime.publish(events_);
    if (receipt) return finish(grpc::Status::OK, *receipt);
    if (receipt.error().code != Errc::overloaded) return finish(to_status(receipt.error()), {});
    last_ = std::move(receipt.error());
    schedule();
  }

  void give_up() {
    const auto why = to_status(last_).error_message();
    if (deadline_first_)
      return finish({grpc::StatusCode::DEADLINE_EXCEEDED,
                     "the deadline passed while waiting for queue space: " + why},
                    {});
    finish({grpc::StatusCode::RESOURCE_EXHAUSTED,
            fmt::format("{} (waited grpc.publish_wait = {} ms for space)", why,
                        ctx_.config.publish_wait.count())},
           {});
  }

  // Under mutex_.
  void finish(grpc::Status status, PublishReceipt receipt) {
    if (finished_) return;
    finished_ = true;
    auto self = shared_from_this();  // the registry may hold the last reference
    {
      std::lock_guard lock(ctx_.streams_mutex);
      ctx_.waiters.erase(self);
    }
    done_(std::move(status), receipt);
  }

  bool stopping() {
    std::lock_guard lock(ctx_.streams_mutex);
    return ctx_.stopping;
  }

  ServiceContext& ctx_;
  grpc::CallbackServerContext* call_;
  std::vector<EventPtr> events_;
  PublishDone done_;
  Error last_;
  boost::asio::steady_timer timer_;
  Clock::time_point give_up_;
  bool deadline_first_ = false;
  milliseconds pause_ = kFirstPause;
  std::mutex mutex_;
  bool finished_ = false;
};

void publish_admitted(ServiceContext& ctx, grpc::CallbackServerContext* call,
                      std::vector<EventPtr> events, PublishDone done) {
  // A durable subscription matched: the call finishes from the store's committer
  // thread once the events are committed, without holding this thread.
  auto defer = [&done]() -> Runtime::PublishCallback {
    return [done](Result<PublishReceipt> committed) {
      if (committed) return done(grpc::Status::OK, *committed);
      done(to_status(committed.error()), {});
    };
  };
  auto now = ctx.runtime.publish(events, defer);
  if (!now) return;
  auto& receipt = *now;
  if (receipt) return done(grpc::Status::OK, *receipt);
  if (receipt.error().code != Errc::overloaded || ctx.config.publish_wait.count() == 0)
    return done(to_status(receipt.error()), {});
  auto waiter = std::make_shared<PublishWaiter>(ctx, call, std::move(events), done,
                                                std::move(receipt.error()));
  if (!waiter->start()) done({grpc::StatusCode::UNAVAILABLE, "the broker is shutting down"}, {});
}

void abort_waiting_publishes(ServiceContext& ctx) {
  std::vector<std::shared_ptr<PublishWaiter>> waiting;
  {
    std::lock_guard lock(ctx.streams_mutex);
    waiting.assign(ctx.waiters.begin(), ctx.waiters.end());
  }
  for (auto& w : waiting) w->abort();
}

}  // namespace evmesh::grpc_adapter
