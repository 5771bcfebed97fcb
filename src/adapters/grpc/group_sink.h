// Consumer groups: a runtime subscription whose sink is "grpc-group:NAME" delivers
// into the in-process Group NAME, which hands each event to one member (a Subscribe
// stream) with free credit.
//
// Design note
//  - A member joins with a credit (max_in_flight). send() assigns an event to the
//    member with free credit that comes next in round-robin order; when no member
//    has credit, the event waits in the group (FIFO). The dispatcher's bounded queue
//    and its concurrency bound what can wait, so a slow group pushes back on
//    publishers (RESOURCE_EXHAUSTED) instead of growing without limit.
//  - The dispatcher's `done(delivered)` runs when the member acks the event. There
//    is no timeout: an event stays with its member until acked or the member leaves.
//  - A member that leaves gives its un-acked events back: they go first, in their
//    delivery order, to the other members, or wait for the next member to join.
//  - Delivery ids are unique per group; an ack for an id the member does not hold
//    is ignored (a late or duplicate ack).
//  - After shutdown() every waiting and future event completes with a permanent
//    outcome, so the runtime's drain does not wait for members that are gone.
//
// Threading: every method may be called from any thread. The group mutex is never
// held while calling a member or a `done` callback (they may re-enter the group).
// Lock order: GroupRegistry::mutex_ before Group::mutex_ (never the reverse).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "evmesh/core/sink.h"

namespace evmesh::grpc_adapter {

// One Subscribe stream as the group sees it. deliver() must not block; it is called
// with no group lock held, possibly concurrently from several threads.
class GroupMember {
 public:
  virtual ~GroupMember() = default;
  virtual void deliver(std::uint64_t delivery_id, EventPtr ev) = 0;
};

struct GroupStats {
  std::size_t members = 0;
  std::size_t waiting = 0;    // events with no member to take them
  std::size_t in_flight = 0;  // sent, not acked
  std::uint64_t acked = 0;
};

class Group {
 public:
  explicit Group(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // From the group's sink (a dispatcher thread).
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done);
  // Adds a member with `credit` events in flight at most; returns its key.
  std::uint64_t join(std::shared_ptr<GroupMember> member, std::uint32_t credit);
  // Acks events the member holds; frees its credit and sends it (or others) more.
  void ack(std::uint64_t member_key, std::span<const std::uint64_t> delivery_ids);
  // Removes the member; its un-acked events go to the others. Returns members left.
  std::size_t leave(std::uint64_t member_key);
  void shutdown();
  GroupStats stats() const;

  // Set once by the first Subscribe that creates the group's runtime subscription.
  // Owned by the subscribe coordinator; guarded by its own lock, not this one.
  std::string filters_key;
  bool dynamic = false;  // its subscription exists only while members do

 private:
  struct Item {
    std::uint64_t id;
    EventPtr ev;
    std::function<void(DeliveryOutcome)> done;
  };
  struct Member {
    std::shared_ptr<GroupMember> member;
    std::uint32_t credit;
    std::map<std::uint64_t, Item> in_flight;
  };
  struct Send {
    std::shared_ptr<GroupMember> member;
    std::uint64_t id;
    EventPtr ev;
  };
  // Under mutex_: moves waiting events to members with free credit.
  void assign(std::vector<Send>& out);

  const std::string name_;
  mutable std::mutex mutex_;
  std::deque<Item> waiting_;
  std::map<std::uint64_t, Member> members_;
  std::uint64_t next_id_ = 1, next_member_ = 1, rr_ = 0, acked_ = 0;
  bool shut_down_ = false;
};

// The SinkFactory for "grpc-group:NAME" sinks (protocol "GRPC"), and the directory
// of groups by name. Any thread.
class GroupRegistry final : public SinkFactory {
 public:
  static constexpr std::string_view kScheme = "grpc-group:";
  // The group name of a grpc-group sink URI; nullopt when it is not one.
  static std::optional<std::string> group_of(std::string_view uri);
  static bool valid_group_name(std::string_view name);

  Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) override;
  std::shared_ptr<Group> find_or_create(const std::string& name);
  std::shared_ptr<Group> find(const std::string& name) const;
  void erase(const std::string& name);
  // Shuts every group down (see Group::shutdown) and those made later.
  void shutdown();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Group>, std::less<>> groups_;
  bool shut_down_ = false;
};

}  // namespace evmesh::grpc_adapter
