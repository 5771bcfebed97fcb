#include "adapters/grpc/status.h"

#include <gtest/gtest.h>

namespace evmesh::grpc_adapter {
namespace {

TEST(GrpcStatus, MapsEveryErrc) {
  using C = grpc::StatusCode;
  EXPECT_EQ(status_code(Errc::invalid_event), C::INVALID_ARGUMENT);
  EXPECT_EQ(status_code(Errc::invalid_format), C::INVALID_ARGUMENT);
  EXPECT_EQ(status_code(Errc::invalid_subscription), C::INVALID_ARGUMENT);
  EXPECT_EQ(status_code(Errc::unsupported_media), C::INVALID_ARGUMENT);
  EXPECT_EQ(status_code(Errc::too_large), C::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status_code(Errc::overloaded), C::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status_code(Errc::limit_reached), C::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status_code(Errc::shutting_down), C::UNAVAILABLE);
  EXPECT_EQ(status_code(Errc::not_found), C::NOT_FOUND);
  EXPECT_EQ(status_code(Errc::conflict), C::ALREADY_EXISTS);
  EXPECT_EQ(status_code(Errc::internal), C::INTERNAL);
}

TEST(GrpcStatus, MessageNamesThePointer) {
  auto s = to_status(Error::make(Errc::invalid_event, "is required", "source"));
  EXPECT_EQ(s.error_message(), "source: is required");
  s = to_status(Error::make(Errc::invalid_event, "attribute 'source' is missing", "source"));
  EXPECT_EQ(s.error_message(), "attribute 'source' is missing");
}

}  // namespace
}  // namespace evmesh::grpc_adapter
