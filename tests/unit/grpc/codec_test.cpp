#include "adapters/grpc/codec.h"

#include <gtest/gtest.h>

namespace evmesh::grpc_adapter {
namespace {

ProtoEvent minimal() {
  ProtoEvent p;
  p.set_id("1");
  p.set_source("/shop");
  p.set_spec_version("1.0");
  p.set_type("com.example.order");
  return p;
}

TEST(GrpcCodec, DecodesTypedAttributes) {
  auto p = minimal();
  auto& a = *p.mutable_attributes();
  a["subject"].set_ce_string("eu/1");
  a["dataschema"].set_ce_uri("https://example.com/s");
  a["datacontenttype"].set_ce_string("application/json");
  a["flag"].set_ce_boolean(true);
  a["count"].set_ce_integer(-42);
  a["blob"].set_ce_bytes(std::string("\x00\x01\xff", 3));
  a["ref"].set_ce_uri_ref("/a/b");
  a["time"].mutable_ce_timestamp()->set_seconds(1700000000);
  a["time"].mutable_ce_timestamp()->set_nanos(120000000);
  p.set_text_data("{\"a\":1}");
  auto ev = decode_event(p);
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ((*ev)->subject(), "eu/1");
  EXPECT_EQ((*ev)->time(), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ((*ev)->extensions().at("flag"), (Extension{"true", JsonKind::boolean}));
  EXPECT_EQ((*ev)->extensions().at("count"), (Extension{"-42", JsonKind::integer}));
  EXPECT_EQ((*ev)->extensions().at("blob").value, "AAH/");
  EXPECT_EQ((*ev)->extensions().at("ref").value, "/a/b");
  EXPECT_EQ(*(*ev)->data(), "{\"a\":1}");
}

TEST(GrpcCodec, RoundTripsThroughProto) {
  auto p = minimal();
  auto& a = *p.mutable_attributes();
  a["datacontenttype"].set_ce_string("application/octet-stream");
  a["time"].mutable_ce_timestamp()->set_seconds(0);
  a["flag"].set_ce_boolean(false);
  a["n"].set_ce_integer(7);
  a["s"].set_ce_string("x");
  p.set_binary_data(std::string("\x00\xfe", 2));
  auto ev = decode_event(p);
  ASSERT_TRUE(ev);
  ProtoEvent back;
  encode_event(**ev, back);
  EXPECT_EQ(back.SerializeAsString().size(), p.SerializeAsString().size());
  auto again = decode_event(back);
  ASSERT_TRUE(again);
  EXPECT_EQ(**again, **ev);
  EXPECT_EQ(back.attributes().at("time").ce_timestamp().seconds(), 0);
  EXPECT_EQ(back.binary_data(), std::string("\x00\xfe", 2));
}

TEST(GrpcCodec, EncodesTextDataForTextualMediaTypes) {
  EventBuilder b;
  b.set("id", "1").set("source", "/s").set("specversion", "1.0")
                .set("type", "t").set("datacontenttype", "text/plain; charset=utf-8")
                .set("time", "2024-01-01T01:00:00.5+01:00").data(Bytes("héllo"));
  auto ev = std::move(b).build();
  ASSERT_TRUE(ev);
  ProtoEvent p;
  encode_event(**ev, p);
  EXPECT_EQ(p.data_case(), ProtoEvent::kTextData);
  EXPECT_EQ(p.text_data(), "héllo");
  const auto& ts = p.attributes().at("time").ce_timestamp();
  EXPECT_EQ(format_rfc3339(ts.seconds(), ts.nanos()), "2024-01-01T00:00:00.5Z");
}

TEST(GrpcCodec, ProtoDataSetsContentTypeAndSchema) {
  auto p = minimal();
  p.mutable_proto_data()->set_type_url("https://types.example.com/x.Y");
  p.mutable_proto_data()->set_value("\x08\x01");
  auto ev = decode_event(p);
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)->datacontenttype(), "application/protobuf");
  EXPECT_EQ((*ev)->dataschema(), "https://types.example.com/x.Y");
  EXPECT_EQ(*(*ev)->data(), "\x08\x01");
  p.mutable_proto_data()->set_type_url("type.googleapis.com/x.Y");  // not an absolute URI
  ev = decode_event(p);
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_FALSE((*ev)->dataschema());
}

TEST(GrpcCodec, ErrorsNameTheAttribute) {
  auto p = minimal();
  p.clear_source();
  auto ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().code, Errc::invalid_event);
  EXPECT_EQ(ev.error().pointer, "source");

  p = minimal();
  (*p.mutable_attributes())["empty"];  // no member of the oneof set
  ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().pointer, "empty");

  p = minimal();
  (*p.mutable_attributes())["id"].set_ce_string("2");
  ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().pointer, "id");

  p = minimal();
  (*p.mutable_attributes())["dataschema"].set_ce_uri("not a uri");
  ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().pointer, "dataschema");

  p = minimal();
  (*p.mutable_attributes())["time"].mutable_ce_timestamp()->set_nanos(-1);
  ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().pointer, "time");

  p = minimal();
  (*p.mutable_attributes())["Bad"].set_ce_string("x");
  ev = decode_event(p);
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().pointer, "Bad");
}

TEST(GrpcCodec, Rfc3339) {
  std::int64_t s;
  std::int32_t n;
  ASSERT_TRUE(parse_rfc3339("1970-01-01T00:00:00Z", s, n));
  EXPECT_EQ(s, 0);
  ASSERT_TRUE(parse_rfc3339("1969-12-31T23:59:59.123456789123Z", s, n));
  EXPECT_EQ(s, -1);
  EXPECT_EQ(n, 123456789);
  EXPECT_EQ(format_rfc3339(s, n), "1969-12-31T23:59:59.123456789Z");
  ASSERT_TRUE(parse_rfc3339("2000-02-29T12:00:00-02:30", s, n));
  EXPECT_EQ(format_rfc3339(s, n), "2000-02-29T14:30:00Z");
  EXPECT_FALSE(parse_rfc3339("2000-02-30T12:00:00Z", s, n));
}

}  // namespace
}  // namespace evmesh::grpc_adapter
