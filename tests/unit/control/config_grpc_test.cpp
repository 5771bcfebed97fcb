// The grpc section's publish_wait and tls keys: values, defaults, and errors naming
// the file, line and key.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace evmesh::control {
namespace {

using std::chrono::milliseconds;
using GrpcConfigTest = testing_util::ConfigFiles;

TEST_F(GrpcConfigTest, PublishWaitAndPlaintextByDefault) {
  auto config = load("");
  EXPECT_EQ(config.grpc.publish_wait, milliseconds(1000));
  EXPECT_FALSE(config.grpc.tls.enabled());
  EXPECT_EQ(load("grpc:\n  publish_wait: 0\n").grpc.publish_wait, milliseconds(0));
}

TEST_F(GrpcConfigTest, TlsFilesAreRead) {
  write("cert", "cert.pem");
  write("key", "key.pem");
  auto config = load("grpc:\n  tls:\n    cert_file: " + file("cert.pem") + "\n    key_file: " +
                     file("key.pem") + "\n    client_ca_file: " + file("cert.pem") + "\n");
  EXPECT_TRUE(config.grpc.tls.enabled());
  EXPECT_EQ(config.grpc.tls.key_file, file("key.pem"));
  EXPECT_EQ(config.grpc.tls.client_ca_file, file("cert.pem"));
  // One key for overrides: the mapping as a YAML flow value.
  auto overridden = load("", {{"grpc.tls", "{cert_file: " + file("cert.pem") +
                                               ", key_file: " + file("key.pem") + "}"}});
  EXPECT_EQ(overridden.grpc.tls.cert_file, file("cert.pem"));
}

TEST_F(GrpcConfigTest, TlsErrorsNameTheKey) {
  write("cert", "cert.pem");
  auto missing = error("grpc:\n  tls:\n    cert_file: /nonexistent.pem\n    key_file: x\n");
  EXPECT_EQ(missing.key(), "grpc.tls.cert_file");
  EXPECT_EQ(missing.line(), 3);
  EXPECT_NE(std::string(missing.what()).find("cannot read '/nonexistent.pem'"), std::string::npos);
  auto alone = error("grpc:\n  tls:\n    cert_file: " + file("cert.pem") + "\n");
  EXPECT_EQ(alone.key(), "grpc.tls");
  EXPECT_NE(std::string(alone.what()).find("cert_file and key_file go together"),
            std::string::npos);
  auto ca_only = error("grpc:\n  tls:\n    client_ca_file: " + file("cert.pem") + "\n");
  EXPECT_NE(std::string(ca_only.what()).find("client_ca_file needs cert_file and key_file"),
            std::string::npos);
  auto unknown = error("grpc:\n  tls:\n    certfile: x\n");
  EXPECT_EQ(unknown.key(), "grpc.tls.certfile");
  auto scalar = error("grpc:\n  tls: yes\n");
  EXPECT_EQ(scalar.key(), "grpc.tls");
}

}  // namespace
}  // namespace evmesh::control
