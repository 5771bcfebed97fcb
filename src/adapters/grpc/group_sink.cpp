#include "group_sink.h"

#include <algorithm>

#include <fmt/format.h>

#include "evmesh/control/subscription_spec.h"

namespace evmesh::grpc_adapter {
namespace {

DeliveryOutcome delivered() { return {DeliveryOutcome::Kind::delivered, 0, {}, std::nullopt}; }
DeliveryOutcome shutting_down() {
  return {DeliveryOutcome::Kind::permanent, 0, "the gRPC adapter is shutting down", std::nullopt};
}

// The Sink of one runtime subscription: forwards to its group. close() does not
// touch the group: a replaced subscription's new sink keeps using it.
class GroupSink final : public Sink {
 public:
  explicit GroupSink(std::shared_ptr<Group> group) : group_(std::move(group)) {}
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    group_->send(std::move(ev), std::move(done));
  }
  void close() override {}

 private:
  std::shared_ptr<Group> group_;
};

}  // namespace

void Group::assign(std::vector<Send>& out) {
  while (!waiting_.empty() && !members_.empty()) {
    // Round robin from the member after the last one served.
    auto it = members_.upper_bound(rr_);
    Member* chosen = nullptr;
    for (std::size_t n = 0; n < members_.size(); ++n, ++it) {
      if (it == members_.end()) it = members_.begin();
      if (it->second.in_flight.size() < it->second.credit) {
        chosen = &it->second;
        rr_ = it->first;
        break;
      }
    }
    if (!chosen) return;
    auto item = std::move(waiting_.front());
    waiting_.pop_front();
    out.push_back({chosen->member, item.id, item.ev});
    const auto id = item.id;
    chosen->in_flight.emplace(id, std::move(item));
  }
}

void Group::send(EventPtr ev, std::function<void(DeliveryOutcome)> done) {
  std::vector<Send> sends;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) {
      lock.unlock();
      done(shutting_down());
      return;
    }
    waiting_.push_back({next_id_++, std::move(ev), std::move(done)});
    assign(sends);
  }
  for (auto& s : sends) s.member->deliver(s.id, std::move(s.ev));
}

std::uint64_t Group::join(std::shared_ptr<GroupMember> member, std::uint32_t credit) {
  std::vector<Send> sends;
  std::uint64_t key;
  {
    std::lock_guard lock(mutex_);
    key = next_member_++;
    members_.emplace(key, Member{std::move(member), std::max<std::uint32_t>(credit, 1), {}});
    assign(sends);
  }
  for (auto& s : sends) s.member->deliver(s.id, std::move(s.ev));
  return key;
}

void Group::ack(std::uint64_t member_key, std::span<const std::uint64_t> delivery_ids) {
  std::vector<std::function<void(DeliveryOutcome)>> dones;
  std::vector<Send> sends;
  {
    std::lock_guard lock(mutex_);
    auto m = members_.find(member_key);
    if (m == members_.end()) return;
    for (auto id : delivery_ids) {
      auto it = m->second.in_flight.find(id);
      if (it == m->second.in_flight.end()) continue;
      dones.push_back(std::move(it->second.done));
      m->second.in_flight.erase(it);
      ++acked_;
    }
    assign(sends);
  }
  for (auto& done : dones) done(delivered());
  for (auto& s : sends) s.member->deliver(s.id, std::move(s.ev));
}

std::size_t Group::leave(std::uint64_t member_key) {
  std::vector<Send> sends;
  std::size_t left;
  {
    std::lock_guard lock(mutex_);
    auto m = members_.find(member_key);
    if (m == members_.end()) return members_.size();
    // Un-acked events go back first, oldest first (map order = delivery order).
    auto& in_flight = m->second.in_flight;
    for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it)
      waiting_.push_front(std::move(it->second));
    members_.erase(m);
    assign(sends);
    left = members_.size();
  }
  for (auto& s : sends) s.member->deliver(s.id, std::move(s.ev));
  return left;
}

void Group::shutdown() {
  std::vector<std::function<void(DeliveryOutcome)>> dones;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (auto& item : waiting_) dones.push_back(std::move(item.done));
    waiting_.clear();
    for (auto& [_, m] : members_)
      for (auto& [_, item] : m.in_flight) dones.push_back(std::move(item.done));
    members_.clear();
  }
  for (auto& done : dones) done(shutting_down());
}

GroupStats Group::stats() const {
  std::lock_guard lock(mutex_);
  GroupStats s{members_.size(), waiting_.size(), 0, acked_};
  for (const auto& [_, m] : members_) s.in_flight += m.in_flight.size();
  return s;
}

std::optional<std::string> GroupRegistry::group_of(std::string_view uri) {
  if (!uri.starts_with(kScheme)) return std::nullopt;
  return std::string(uri.substr(kScheme.size()));
}

bool GroupRegistry::valid_group_name(std::string_view name) {
  return control::valid_subscription_id(name);
}

Result<std::shared_ptr<Sink>> GroupRegistry::make(const SinkSpec& spec) {
  auto name = group_of(spec.uri);
  if (!name || !valid_group_name(*name))
    return fail(Errc::invalid_subscription,
                fmt::format("sink: a GRPC sink must be \"grpc-group:NAME\" (NAME: 1 to 128 "
                            "characters from A-Z a-z 0-9 - _ . ~), got \"{}\"",
                            spec.uri),
                "sink");
  return std::make_shared<GroupSink>(find_or_create(*name));
}

std::shared_ptr<Group> GroupRegistry::find_or_create(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& g = groups_[name];
  if (!g) {
    g = std::make_shared<Group>(name);
    if (shut_down_) g->shutdown();
  }
  return g;
}

std::shared_ptr<Group> GroupRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second;
}

void GroupRegistry::erase(const std::string& name) {
  std::lock_guard lock(mutex_);
  groups_.erase(name);
}

void GroupRegistry::shutdown() {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (auto& [_, g] : groups_) groups.push_back(g);
  }
  for (auto& g : groups) g->shutdown();
}

}  // namespace evmesh::grpc_adapter
