#include "publish_wait.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "problem.h"

namespace evmesh::http {
namespace {

namespace bh = boost::beast::http;
using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstPause{1}, kMaxPause{32};

// Holds the session (through `reply`), and with it the ServerContext.
class RoomWaiter final : public std::enable_shared_from_this<RoomWaiter> {
 public:
  RoomWaiter(ServerContext& ctx, boost::asio::any_io_executor ex, std::vector<EventPtr> events,
             Error overloaded, std::function<void(Response)> reply)
      : ctx_(ctx),
        timer_(std::move(ex)),
        events_(std::move(events)),
        last_(std::move(overloaded)),
        reply_(std::move(reply)),
        give_up_(Clock::now() + ctx.config.publish_wait) {}

  void schedule() {
    timer_.expires_after(std::clamp<Clock::duration>(give_up_ - Clock::now(), Clock::duration::zero(), pause_));
    pause_ = std::min(pause_ * 2, kMaxPause);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->attempt(); });
  }

 private:
  void attempt() {
    auto defer = [this] { return reply_when_committed(std::move(reply_)); };
    auto receipt = ctx_.runtime.publish(events_, defer);
    if (!receipt) return;  // answered by the committer
    if (*receipt) return reply_(empty_response(bh::status::accepted));
    if (receipt->error().code != Errc::overloaded) return reply_(problem_response(receipt->error()));
    last_ = std::move(receipt->error());
    if (Clock::now() >= give_up_) {
      last_.message += fmt::format(" (waited http.publish_wait = {} ms for room)", ctx_.config.publish_wait.count());
      return reply_(problem_response(last_));
    }
    schedule();
  }

  ServerContext& ctx_;
  boost::asio::steady_timer timer_;
  std::vector<EventPtr> events_;
  Error last_;
  std::function<void(Response)> reply_;
  const Clock::time_point give_up_;
  std::chrono::milliseconds pause_ = kFirstPause;
};

}  // namespace

Runtime::PublishCallback reply_when_committed(std::function<void(Response)> reply) {
  return [reply = std::move(reply)](Result<PublishReceipt> r) {
    reply(r ? empty_response(bh::status::accepted) : problem_response(r.error()));
  };
}

void wait_for_room(ServerContext& ctx, boost::asio::any_io_executor ex, std::vector<EventPtr> events,
                   Error overloaded, std::function<void(Response)> reply) {
  std::make_shared<RoomWaiter>(ctx, std::move(ex), std::move(events), std::move(overloaded), std::move(reply))
      ->schedule();
}

}  // namespace evmesh::http
