#include "keepalive_wheel.h"

#include <boost/asio/post.hpp>

#include "connection.h"

namespace evmesh::mqtt {

namespace {
std::int64_t slot_of(Clock::time_point t) {
  const auto ticks = t.time_since_epoch() / KeepaliveWheel::kTick;
  return static_cast<std::int64_t>(ticks) + 1;  // the first tick at or after t
}
}  // namespace

void KeepaliveWheel::add(std::weak_ptr<Connection> c, Clock::time_point due) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  slots_[slot_of(due)].push_back(std::move(c));
  if (ticking_) return;
  ticking_ = true;
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->tick(); });
}

void KeepaliveWheel::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  slots_.clear();
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

void KeepaliveWheel::tick() {
  std::vector<std::weak_ptr<Connection>> due;
  {
    std::lock_guard lock(mutex_);
    const auto now = slot_of(Clock::now()) - 1;
    for (auto it = slots_.begin(); it != slots_.end() && it->first <= now; it = slots_.erase(it))
      due.insert(due.end(), std::make_move_iterator(it->second.begin()), std::make_move_iterator(it->second.end()));
    if (stopped_ || slots_.empty()) {
      ticking_ = false;
    } else {
      timer_.expires_after(kTick);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) {
          std::lock_guard lock(self->mutex_);
          self->ticking_ = false;
          return;
        }
        self->tick();
      });
    }
  }
  for (auto& w : due)
    if (auto c = w.lock()) c->keepalive_due();
}

}  // namespace evmesh::mqtt
