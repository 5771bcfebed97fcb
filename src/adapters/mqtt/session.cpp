#include "session.h"

#include <utility>

namespace evmesh::mqtt {

std::uint16_t Session::next_packet_id() {
  for (int tries = 0; tries < 65535; ++tries) {
    last_id_ = static_cast<std::uint16_t>(last_id_ % 65535 + 1);
    if (!inflight.contains(last_id_)) return last_id_;
  }
  return 0;
}

std::vector<RoomWaiterPtr> Session::take_waiters(std::size_t low_water, bool always) {
  if (!always && queue.size() > low_water) return {};
  full_since.reset();
  return std::exchange(waiters, {});
}

}  // namespace evmesh::mqtt
