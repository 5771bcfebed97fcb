#include "adapters/grpc/group_sink.h"

#include <gtest/gtest.h>

namespace evmesh::grpc_adapter {
namespace {

struct Recorder : GroupMember {
  std::vector<std::pair<std::uint64_t, EventPtr>> got;
  void deliver(std::uint64_t id, EventPtr ev) override { got.emplace_back(id, std::move(ev)); }
};

EventPtr event(std::string id) {
  EventBuilder b;
  b.set("id", id).set("source", "/s").set("specversion", "1.0").set("type", "t");
  return *std::move(b).build();
}

struct Outcomes {
  std::vector<DeliveryOutcome::Kind> kinds;
  std::function<void(DeliveryOutcome)> done() {
    return [this](DeliveryOutcome o) { kinds.push_back(o.kind); };
  }
};

TEST(Group, CreditBoundsInFlightAndAcksRelease) {
  Group g("g");
  auto m = std::make_shared<Recorder>();
  auto key = g.join(m, 2);
  Outcomes out;
  for (int i = 0; i < 5; ++i) g.send(event(std::to_string(i)), out.done());
  ASSERT_EQ(m->got.size(), 2u);
  EXPECT_EQ(g.stats().waiting, 3u);
  const std::uint64_t ids[] = {m->got[0].first};
  g.ack(key, ids);
  EXPECT_EQ(out.kinds.size(), 1u);
  ASSERT_EQ(m->got.size(), 3u);
  EXPECT_EQ(m->got[2].second->id(), "2");
  g.ack(key, ids);  // duplicate ack: ignored
  EXPECT_EQ(out.kinds.size(), 1u);
}

TEST(Group, SharesAmongMembersAndRebalancesOnLeave) {
  Group g("g");
  auto a = std::make_shared<Recorder>(), b = std::make_shared<Recorder>();
  auto ka = g.join(a, 10);
  auto kb = g.join(b, 10);
  Outcomes out;
  for (int i = 0; i < 4; ++i) g.send(event(std::to_string(i)), out.done());
  EXPECT_EQ(a->got.size(), 2u);
  EXPECT_EQ(b->got.size(), 2u);
  EXPECT_EQ(g.leave(ka), 1u);  // a's two un-acked events go to b
  ASSERT_EQ(b->got.size(), 4u);
  std::vector<std::uint64_t> ids;
  for (auto& [id, _] : b->got) ids.push_back(id);
  g.ack(kb, ids);
  EXPECT_EQ(out.kinds.size(), 4u);
}

TEST(Group, KeepsEventsUntilAMemberComesBack) {
  Group g("g");
  auto a = std::make_shared<Recorder>();
  auto ka = g.join(a, 1);
  Outcomes out;
  g.send(event("1"), out.done());
  EXPECT_EQ(g.leave(ka), 0u);
  EXPECT_EQ(g.stats().waiting, 1u);
  auto b = std::make_shared<Recorder>();
  g.join(b, 1);
  ASSERT_EQ(b->got.size(), 1u);
  EXPECT_EQ(b->got[0].second->id(), "1");
}

TEST(Group, ShutdownCompletesEverything) {
  Group g("g");
  auto a = std::make_shared<Recorder>();
  g.join(a, 1);
  Outcomes out;
  g.send(event("1"), out.done());
  g.send(event("2"), out.done());
  g.shutdown();
  EXPECT_EQ(out.kinds.size(), 2u);
  g.send(event("3"), out.done());
  EXPECT_EQ(out.kinds.size(), 3u);
  EXPECT_EQ(out.kinds[2], DeliveryOutcome::Kind::permanent);
}

TEST(GroupRegistry, MakesSinksForGroupUris) {
  GroupRegistry r;
  SinkSpec spec;
  spec.protocol = "GRPC";
  spec.uri = "grpc-group:workers";
  ASSERT_TRUE(r.make(spec));
  EXPECT_NE(r.find("workers"), nullptr);
  spec.uri = "grpc-group:";
  auto bad = r.make(spec);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().pointer, "sink");
}

}  // namespace
}  // namespace evmesh::grpc_adapter
