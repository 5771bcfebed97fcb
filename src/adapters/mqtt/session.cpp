#include "session.h"

namespace evmesh::mqtt {

std::uint16_t Session::next_packet_id() {
  for (int tries = 0; tries < 65535; ++tries) {
    last_id_ = static_cast<std::uint16_t>(last_id_ % 65535 + 1);
    if (!inflight.contains(last_id_)) return last_id_;
  }
  return 0;
}

}  // namespace evmesh::mqtt
