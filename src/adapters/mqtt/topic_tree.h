// The subscription index of the MQTT broker: a trie over topic levels.
//
// Design note. Filters are split at '/', one trie node per level; `+` and `#` are
// ordinary children named "+" and "#", so matching a topic of L levels visits at
// most the paths that can match, never every subscription. Topics starting with '$'
// are not matched by a wildcard in the first level (MQTT 5.0 4.7.2):
//   "sport/+/player1" matches "sport/tennis/player1"; "#" matches "a", "a/b" but
//   not "$SYS/x"; "sport/#" matches "sport" (the parent level) too.
// Shared subscriptions ($share/group/filter) sit at the filter's node under their
// group name; each message goes to one member, round-robin, preferring members
// that are connected.
// Not thread-safe: the Broker guards it (readers share, writers exclude).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace evmesh::mqtt {

class Session;
using SessionPtr = std::shared_ptr<Session>;

struct SubOptions {
  std::uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint8_t retain_handling = 0;
  std::uint32_t subscription_id = 0;  // 0 = none
};

class TopicTree {
 public:
  TopicTree();
  ~TopicTree();
  // Adds or replaces; returns true when the subscription is new. `group` empty =
  // not shared.
  bool add(std::string_view filter, std::string_view group, const SessionPtr& s, const SubOptions& o);
  // Returns true when there was such a subscription.
  bool remove(std::string_view filter, std::string_view group, const Session* s);

  // Calls f(session, options) for every matching non-shared subscription and for
  // one chosen member of every matching shared group. `connected` tells the
  // shared-group choice which members can take a message now.
  using Visit = std::function<void(const SessionPtr&, const SubOptions&, bool shared)>;
  void match(std::string_view topic, const Visit& f,
             const std::function<bool(const Session&)>& connected) const;
  std::size_t size() const { return count_; }

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::size_t count_ = 0;
};

// Splits "$share/group/filter" into group and filter; nullopt-like empty group when
// not shared. Returns false when it starts with $share/ but is malformed.
bool split_shared(std::string_view full, std::string_view& group, std::string_view& filter);

}  // namespace evmesh::mqtt
