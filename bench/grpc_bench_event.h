// The event the gRPC benchmarks publish: the same attributes and body as
// bench/wrk/binary_event.lua, so gRPC and HTTP figures compare like with like.
#pragma once

#include <string>

#include "cloudevents/v1/cloudevents.pb.h"

inline io::cloudevents::v1::CloudEvent bench_event(
    const std::string& type = "com.example.bench.event") {
  io::cloudevents::v1::CloudEvent ev;
  ev.set_id("b6a1f0e2-5c3d-4e8f-9a7b-1c2d3e4f5a6b");
  ev.set_source("/bench/grpc");
  ev.set_spec_version("1.0");
  ev.set_type(type);
  auto& attrs = *ev.mutable_attributes();
  attrs["subject"].set_ce_string("orders/eu/A-1042");
  attrs["time"].mutable_ce_timestamp()->set_seconds(1714564800);  // 2024-05-01T12:00:00Z
  attrs["datacontenttype"].set_ce_string("application/json");
  ev.set_text_data(
      R"({"order":{"id":"A-1042","customer":"c-77","items":[{"sku":"SKU-1","qty":1,"price":49.95},)"
      R"({"sku":"SKU-2","qty":2,"price":40.00}],"total":129.95,"currency":"EUR"},)"
      R"("shipping":{"country":"DE","method":"standard"}})");
  return ev;
}
