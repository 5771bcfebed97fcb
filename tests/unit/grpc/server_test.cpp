// The real GrpcServer on a free port, driven by the generated C++ client.
#include "adapters/grpc/grpc_server.h"

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "evmesh/v1/broker.grpc.pb.h"

namespace evmesh::grpc_adapter {
namespace {

namespace pb = ::evmesh::v1;

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control::GrpcListenerConfig config;
    config.enabled = true;
    config.port = 0;
    config.max_message_bytes = 64 << 10;
    config.max_in_flight = 2;
    runtime_ = std::make_unique<Runtime>(io_.get_executor(), RuntimeOptions{}, groups_);
    server_ = std::make_unique<GrpcServer>(io_.get_executor(), config, *runtime_, groups_,
                                           DeliveryPolicy{}, SinkSpec{});
    ASSERT_TRUE(server_->start());
    thread_ = std::thread([this] { io_.run(); });
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::Broker::NewStub(channel_);
  }
  void TearDown() override {
    server_->begin_shutdown(std::chrono::milliseconds(500));
    server_->wait();
    groups_.shutdown();
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }

  static pb::PublishRequest publish_request(std::string id, std::string type = "com.example.a") {
    pb::PublishRequest req;
    auto* ev = req.mutable_event();
    ev->set_id(std::move(id));
    ev->set_source("/test");
    ev->set_spec_version("1.0");
    ev->set_type(std::move(type));
    (*ev->mutable_attributes())["n"].set_ce_integer(5);
    ev->set_text_data("hello");
    return req;
  }

  grpc::Status publish(const pb::PublishRequest& req) {
    grpc::ClientContext ctx;
    pb::PublishResponse res;
    return stub_->Publish(&ctx, req, &res);
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  GroupRegistry groups_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<GrpcServer> server_;
  std::thread thread_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Broker::Stub> stub_;
};

TEST_F(GrpcServerTest, PublishValidatesAndNamesTheAttribute) {
  EXPECT_TRUE(publish(publish_request("1")).ok());
  auto bad = publish_request("");
  auto status = publish(bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("id"), std::string::npos) << status.error_message();
}

TEST_F(GrpcServerTest, OversizedMessageIsRejected) {
  auto req = publish_request("1");
  req.mutable_event()->set_text_data(std::string(100 << 10, 'x'));
  EXPECT_EQ(publish(req).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(GrpcServerTest, SubscribeReceivesWithCreditAndAcks) {
  grpc::ClientContext ctx;
  auto stream = stub_->Subscribe(&ctx);
  pb::SubscribeRequest start;
  start.mutable_start()->set_filters(R"([{"prefix":{"type":"com.example."}}])");
  start.mutable_start()->set_group("g1");
  ASSERT_TRUE(stream->Write(start));
  // The subscription exists once the server has handled `start`.
  for (int i = 0; i < 200 && !runtime_->get("grpc-g1"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(runtime_->get("grpc-g1"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(publish(publish_request(std::to_string(i))).ok());
  ASSERT_TRUE(publish(publish_request("other", "org.other")).ok());

  pb::SubscribeResponse msg;
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 2; ++i) {  // credit 2: two arrive before any ack
    ASSERT_TRUE(stream->Read(&msg));
    EXPECT_EQ(msg.event().id(), std::to_string(i));
    EXPECT_EQ(msg.event().attributes().at("n").ce_integer(), 5);
    EXPECT_EQ(msg.event().text_data(), "hello");
    ids.push_back(msg.delivery_id());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto stats = groups_.find("g1")->stats();
  EXPECT_EQ(stats.in_flight, 2u);
  EXPECT_EQ(stats.waiting, 1u);
  pb::SubscribeRequest ack;
  for (auto id : ids) ack.mutable_ack()->add_delivery_ids(id);
  ASSERT_TRUE(stream->Write(ack));
  ASSERT_TRUE(stream->Read(&msg));
  EXPECT_EQ(msg.event().id(), "2");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  // The last member left: the dynamic subscription goes away.
  for (int i = 0; i < 200 && runtime_->get("grpc-g1"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(runtime_->get("grpc-g1"));
}

TEST_F(GrpcServerTest, SubscriptionCrud) {
  grpc::ClientContext c1;
  pb::SubscriptionRequest req;
  req.set_json(R"({"sink":"grpc-group:named","protocol":"GRPC","types":["t"]})");
  pb::SubscriptionResponse res;
  ASSERT_TRUE(stub_->CreateSubscription(&c1, req, &res).ok());
  auto id = nlohmann::json::parse(res.json()).at("id").get<std::string>();

  grpc::ClientContext c2;
  req.set_id(id);
  EXPECT_TRUE(stub_->GetSubscription(&c2, req, &res).ok());
  grpc::ClientContext c3;
  req.set_id("missing");
  EXPECT_EQ(stub_->GetSubscription(&c3, req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext c4;
  req.set_json(R"({"sink":"grpc-group:named","protocol":"GRPC","filters":[{"bogus":{}}]})");
  auto bad = stub_->CreateSubscription(&c4, req, &res);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("filters[0]"), std::string::npos) << bad.error_message();
  grpc::ClientContext c5;
  req.set_id(id);
  EXPECT_TRUE(stub_->DeleteSubscription(&c5, req, &res).ok());
  grpc::ClientContext c6;
  EXPECT_EQ(stub_->DeleteSubscription(&c6, req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcServerTest, PublishStreamCountsAndListsInvalidEvents) {
  ASSERT_TRUE(runtime_->create([] {
    Subscription sub;
    sub.id = "all";
    sub.sink.uri = "grpc-group:all";
    sub.sink.protocol = "GRPC";
    return sub;
  }()));
  grpc::ClientContext ctx;
  pb::PublishStreamResponse res;
  auto writer = stub_->PublishStream(&ctx, &res);
  for (int i = 0; i < 3; ++i) {
    pb::PublishStreamRequest one;
    *one.mutable_event() = publish_request(std::to_string(i)).event();
    ASSERT_TRUE(writer->Write(one));
  }
  pb::PublishStreamRequest batch;
  *batch.mutable_batch()->add_events() = publish_request("3").event();
  *batch.mutable_batch()->add_events() = publish_request("").event();  // invalid: no id
  ASSERT_TRUE(writer->Write(batch));
  ASSERT_TRUE(writer->WritesDone());
  auto status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(res.published(), 4u);
  EXPECT_EQ(res.rejected(), 1u);
  EXPECT_EQ(res.deliveries(), 4u);
  ASSERT_EQ(res.failures_size(), 1);
  EXPECT_EQ(res.failures(0).index(), 4u);
  EXPECT_EQ(res.failures(0).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(res.failures(0).attribute(), "id");
}

TEST_F(GrpcServerTest, PublishStreamWithoutEventOrBatchFailsAfterTheHandledEvents) {
  grpc::ClientContext ctx;
  pb::PublishStreamResponse res;
  auto writer = stub_->PublishStream(&ctx, &res);
  pb::PublishStreamRequest one;
  *one.mutable_event() = publish_request("1").event();
  ASSERT_TRUE(writer->Write(one));
  writer->Write(pb::PublishStreamRequest{});
  writer->WritesDone();
  auto status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("set `event` or `batch`"), std::string::npos)
      << status.error_message();
  auto processed = ctx.GetServerTrailingMetadata().find("evmesh-processed");
  ASSERT_NE(processed, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(processed->second.data(), processed->second.size()), "1");
}

TEST_F(GrpcServerTest, MalformedRequestNamesTheField) {
  grpc::GenericStub generic(channel_);
  const std::string garbage = "\x0a\x05\x12\x03\xff\xfe\xfd";  // event.source: bad UTF-8
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext ctx;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/evmesh.v1.Broker/Publish", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) { done.set_value(std::move(s)); });
  auto status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "malformed PublishRequest: event.source (field 2): not valid UTF-8");
  EXPECT_TRUE(publish(publish_request("still-serving")).ok());
}

TEST_F(GrpcServerTest, ExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  pb::PublishResponse res;
  EXPECT_EQ(stub_->Publish(&ctx, publish_request("1"), &res).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace evmesh::grpc_adapter
