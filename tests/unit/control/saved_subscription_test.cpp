// encode/decode_saved_subscription: how a durable API subscription is kept in the store.
#include "evmesh/control/saved_subscription.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

Subscription api_subscription() {
  nlohmann::json body = {{"id", "orders"},
                         {"sink", "http://127.0.0.1:9000/hook"},
                         {"types", {"com.example.order"}},
                         {"filters", {{{"prefix", {{"type", "com.example."}}}}}},
                         {"delivery", {{"maxattempts", 7}, {"queuecapacity", 50}}},
                         {"durable", true},
                         {"replay", "oldest"}};
  auto sub = parse_subscription(body, DeliveryPolicy{});
  EXPECT_TRUE(sub) << sub.error().message;
  sub->owner = "service:orders";
  return *sub;
}

std::string decode_error(const std::string& text) {
  auto sub = decode_saved_subscription(text);
  EXPECT_FALSE(sub) << text;
  if (sub) return "";
  EXPECT_EQ(sub.error().code, Errc::invalid_subscription);
  return sub.error().message;
}

TEST(SavedSubscriptionTest, RoundTripsEveryPropertyAndTheOwner) {
  const auto sub = api_subscription();
  auto back = decode_saved_subscription(encode_saved_subscription(sub));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(sub));
  EXPECT_EQ(back->owner, "service:orders");
  EXPECT_FALSE(back->declared_in_config);
  EXPECT_TRUE(back->durable);
}

TEST(SavedSubscriptionTest, DamagedRecordsAreErrorsNamingWhatIsWrong) {
  EXPECT_EQ(decode_error("{not json"), "the saved record is not a JSON object");
  EXPECT_EQ(decode_error("[1]"), "the saved record is not a JSON object");
  EXPECT_EQ(decode_error(R"({"owner": "", "subscription": {}})"),
            "the saved record has version none, expected 1");
  EXPECT_EQ(decode_error(R"({"version": 2, "owner": "", "subscription": {}})"),
            "the saved record has version 2, expected 1");
  EXPECT_EQ(decode_error(R"({"version": 1, "subscription": {}})"),
            "the saved record lacks its owner or subscription");
  EXPECT_EQ(decode_error(R"({"version": 1, "owner": 3, "subscription": {}})"),
            "the saved record lacks its owner or subscription");
}

TEST(SavedSubscriptionTest, ASubscriptionThisVersionRefusesIsAnErrorWithItsPointer) {
  auto sub = decode_saved_subscription(
      R"({"version": 1, "owner": "", "subscription": {"id": "x", "sink": "http://a/", "colour": 1}})");
  ASSERT_FALSE(sub);
  EXPECT_NE(sub.error().message.find("colour"), std::string::npos) << sub.error().message;
}

}  // namespace
}  // namespace evmesh::control
