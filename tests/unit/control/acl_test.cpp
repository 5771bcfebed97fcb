#include "evmesh/control/acl.h"

#include <gtest/gtest.h>

#include <chrono>

#include "evmesh/control/access_control.h"
#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

using A = AclAction;

// The example, as written.
std::vector<AclEntryConfig> seed() {
  return {{"production-access",
           "service:payment-service",
           {{A::publish, "com.company.payment.*"}, {A::subscribe, "com.company.order.created"}},
           {{A::subscribe, "com.company.*.internal"}}}};
}

std::shared_ptr<const Acl> compile(const std::vector<AclEntryConfig>& e) {
  auto acl = Acl::compile(e);
  EXPECT_TRUE(acl.has_value()) << acl.error().message;
  return *acl;
}

TEST(Acl, SeedExampleAllowsWhatItNamesAndNothingElse) {
  auto acl = compile(seed());
  const std::string p = "service:payment-service";
  EXPECT_TRUE(acl->allows(p, A::publish, "com.company.payment.processed"));
  EXPECT_FALSE(acl->allows(p, A::publish, "com.company.payment.card.processed")) << "* stops at dots";
  EXPECT_FALSE(acl->allows(p, A::publish, "com.company.order.created"));
  EXPECT_TRUE(acl->allows(p, A::subscribe, "com.company.order.created"));
  EXPECT_FALSE(acl->allows(p, A::subscribe, "com.company.order.updated"));
  EXPECT_FALSE(acl->allows(p, A::subscribe, "com.company.payment.processed"));
  EXPECT_FALSE(acl->allows("service:unknown", A::publish, "com.company.payment.processed"))
      << "unknown principals are denied";
  EXPECT_FALSE(acl->allows("anonymous", A::subscribe, "com.company.order.created"));
}

TEST(Acl, DenyWinsOverAnyAllowFromAnyEntry) {
  auto entries = seed();
  entries.push_back({"broad", "service:*", {{A::subscribe, "com.company.**"}}, {}});
  auto acl = compile(entries);
  const std::string p = "service:payment-service";
  EXPECT_TRUE(acl->allows(p, A::subscribe, "com.company.billing.created"));
  EXPECT_FALSE(acl->allows(p, A::subscribe, "com.company.billing.internal")) << "deny of entry 1";
  EXPECT_TRUE(acl->allows("service:other", A::subscribe, "com.company.billing.internal"))
      << "the deny belongs to payment-service only";
  entries.push_back({"lockdown", "service:*", {}, {{A::publish, "**"}}});
  acl = compile(entries);
  EXPECT_FALSE(acl->allows(p, A::publish, "com.company.payment.processed"));
}

TEST(Acl, NoEntriesMeansOff) {
  auto acl = compile({});
  EXPECT_FALSE(acl->enabled());
  EXPECT_TRUE(acl->allows("anyone", A::publish, "x"));
}

TEST(Acl, BadPatternsAndDuplicateNamesNameTheirPlace) {
  auto bad = seed();
  bad[0].allow.push_back({A::publish, "a.***"});
  auto r = Acl::compile(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().pointer, "acl[0].allow[2].publish");
  EXPECT_NE(r.error().message.find("bad type pattern"), std::string::npos) << r.error().message;
  auto dup = seed();
  dup.push_back(dup[0]);
  r = Acl::compile(dup);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().pointer, "acl[1].name");
  EXPECT_NE(r.error().message.find("duplicate ACL name 'production-access'"), std::string::npos);
}

Subscription sub_from(const nlohmann::json& body) {
  auto s = parse_subscription(body, DeliveryPolicy{});
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return *s;
}

TEST(Acl, SubscriptionsPinnedToDeniedTypesAreRecognised) {
  auto acl = compile(seed());
  const std::string p = "service:payment-service";
  const std::string sink = "http://127.0.0.1:9/x";
  EXPECT_EQ(acl->always_denied(p, sub_from({{"sink", sink}, {"types", {"com.company.order.internal"}}})),
            "com.company.order.internal");
  EXPECT_EQ(acl->always_denied(
                p, sub_from({{"sink", sink},
                             {"filters", {{{"any", {{{"exact", {{"type", "a"}}}},
                                                    {{"exact", {{"type", "b"}}}}}}}}}})),
            "a");
  EXPECT_EQ(acl->always_denied(p, sub_from({{"sink", sink}, {"types", {"com.company.order.created"}}})),
            std::nullopt);
  EXPECT_EQ(acl->always_denied(p, sub_from({{"sink", sink},
                                           {"types", {"x", "com.company.order.created"}}})),
            std::nullopt)
      << "one allowed type is enough";
  EXPECT_EQ(acl->always_denied(p, sub_from({{"sink", sink},
                                           {"filters", {{{"prefix", {{"type", "com."}}}}}}})),
            std::nullopt)
      << "undecidable cheaply: routing checks each event";
}

TEST(AccessControl, CountsEveryDenialByPrincipalActionAndType) {
  auto ac = *AccessControl::make({}, seed());
  Principal p{"service:payment-service", "api-key"};
  EXPECT_TRUE(ac->authorize(p, A::publish, "com.company.payment.x").has_value());
  auto denied = ac->authorize(p, A::publish, "com.company.order.created");
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, Errc::permission_denied);
  EXPECT_EQ(denied.error().message,
            "principal 'service:payment-service' may not publish events of type "
            "'com.company.order.created'");
  EventBuilder builder;
  builder.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "com.company.order.internal");
  auto ev = std::move(builder).build();
  ASSERT_TRUE(ev.has_value()) << ev.error().message;
  EXPECT_FALSE(ac->may_receive(p.name, **ev));
  EXPECT_FALSE(ac->authenticate({}, "http").has_value());
  auto d = ac->denials();
  EXPECT_EQ(d["total"], 3);
  EXPECT_EQ(d["publish"], 1);
  EXPECT_EQ(d["receive"], 1);
  EXPECT_EQ(d["unauthenticated"], 1);
  ASSERT_EQ(d["by"].size(), 3u);
  EXPECT_EQ(d["by"][1]["principal"], "service:payment-service");
  // The dry run of the admin API neither counts nor logs.
  EXPECT_FALSE(ac->check(p.name, A::publish, "nope"));
  EXPECT_EQ(ac->denials()["total"], 3);
}

TEST(AccessControl, UpdateSwapsRulesAndKeepsThemOnError) {
  auto ac = *AccessControl::make({}, {});
  EXPECT_FALSE(ac->acl_enabled());
  ASSERT_TRUE(ac->update({}, seed()).has_value());
  EXPECT_TRUE(ac->acl_enabled());
  auto bad = seed();
  bad[0].deny.push_back({A::subscribe, "***"});
  EXPECT_FALSE(ac->update({}, bad).has_value());
  EXPECT_TRUE(ac->check("service:payment-service", A::publish, "com.company.payment.x"));
}

// The hot path: one check must stay far below the cost of routing an event.
TEST(Acl, CheckCostIsSmall) {
  auto entries = seed();
  for (int i = 0; i < 50; ++i)
    entries.push_back({"e" + std::to_string(i), "service:s" + std::to_string(i),
                       {{A::publish, "com.company.x" + std::to_string(i) + ".*"}}, {}});
  entries.push_back({"globs", "team:*", {{A::subscribe, "com.**"}}, {}});
  auto acl = compile(entries);
  constexpr int kN = 200'000;
  const auto start = std::chrono::steady_clock::now();
  int allowed = 0;
  for (int i = 0; i < kN; ++i)
    allowed += acl->allows("service:payment-service", A::publish, "com.company.payment.processed");
  const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kN;
  EXPECT_EQ(allowed, kN);
  RecordProperty("ns_per_check", std::to_string(ns));
  std::printf("ACL check: %.0f ns\n", ns);
  EXPECT_LT(ns, 5000.0);
}

}  // namespace
}  // namespace evmesh::control
