// The security sections of the YAML config: auth, acl, admin, http.tls.
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "evmesh/control/auth.h"
#include "evmesh/control/effective_config.h"

namespace evmesh::control {
namespace {

class SecurityConfigTest : public testing_util::ConfigFiles {
 protected:
  // "line: key: message" of the error `yaml` gives.
  std::string why(const std::string& yaml, const Overrides& cli = {}) {
    auto e = error(yaml, cli);
    std::string what = e.what();
    const auto prefix = file() + ":";
    return what.starts_with(prefix) ? what.substr(prefix.size()) : what;
  }
};

const std::string kSeedAcl = R"(
acl:
  - name: production-access
    principal: service:payment-service
    allow:
      - publish: "com.company.payment.*"
      - subscribe: "com.company.order.created"
    deny:
      - subscribe: "com.company.*.internal"
)";

TEST_F(SecurityConfigTest, TheSeedAclLoadsAsWritten) {
  auto c = load(kSeedAcl);
  ASSERT_EQ(c.acl.size(), 1u);
  EXPECT_EQ(c.acl[0].name, "production-access");
  EXPECT_EQ(c.acl[0].principal, "service:payment-service");
  ASSERT_EQ(c.acl[0].allow.size(), 2u);
  EXPECT_EQ(c.acl[0].allow[0].action, AclAction::publish);
  EXPECT_EQ(c.acl[0].allow[1].pattern, "com.company.order.created");
  ASSERT_EQ(c.acl[0].deny.size(), 1u);
  EXPECT_EQ(c.acl[0].deny[0].action, AclAction::subscribe);
  EXPECT_FALSE(c.auth.anonymous.has_value());
}

TEST_F(SecurityConfigTest, AuthSectionLoads) {
  write("0123456789abcdef0123456789abcdef", "hs.secret");
  auto c = load("auth:\n  anonymous: false\n  api_keys:\n    - principal: service:a\n      hash: " +
                hash_sha256("k") + "\n  jwt:\n    - issuer: https://idp\n      audience: evmesh\n"
                "      algorithm: HS256\n      secret_file: " + file("hs.secret") +
                "\n      leeway: 5s\n  mtls:\n    principal: dn\n    prefix: 'cert:'\n");
  EXPECT_EQ(c.auth.anonymous, false);
  ASSERT_EQ(c.auth.api_keys.size(), 1u);
  ASSERT_EQ(c.auth.jwt.size(), 1u);
  EXPECT_EQ(c.auth.jwt[0].audiences, std::vector<std::string>{"evmesh"});
  EXPECT_EQ(c.auth.jwt[0].leeway, std::chrono::seconds(5));
  EXPECT_EQ(c.auth.jwt[0].secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.auth.mtls.principal, "dn");
  EXPECT_EQ(c.auth.mtls.prefix, "cert:");
}

TEST_F(SecurityConfigTest, BadAclsGiveThePreciseLineAndKey) {
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n    allow:\n      - publish: 'a.***'\n"),
            "5: acl[0].allow[0].publish: bad type pattern: '***': a glob takes '*' (within a "
            "dot-separated part) or '**' (across dots), nothing longer");
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n    allow: [{publish: x}]\n"
                "  - name: a\n    principal: q\n    allow: [{publish: y}]\n"),
            "5: acl[1].name: duplicate ACL name 'a'");
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n    allow:\n      - publsh: x\n"),
            "5: acl[0].allow[0].publsh: unknown key (acl[0].allow[0] keys: publish, subscribe)");
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n    allow:\n      - {publish: x, subscribe: y}\n"),
            "5: acl[0].allow[0]: must be a mapping with exactly one of publish or subscribe, e.g. "
            "{publish: \"com.example.*\"}");
  EXPECT_EQ(why("acl:\n  - name: a\n    allow: [{publish: x}]\n"), "2: acl[0].principal: is required");
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n"), "2: acl[0]: needs allow or deny rules");
  EXPECT_EQ(why("acl: {name: a}\n"), "1: acl: must be a list");
  EXPECT_EQ(why("acl:\n  - name: a\n    principal: p\n    allow: {publish: x}\n"),
            "4: acl[0].allow: must be a list");
}

TEST_F(SecurityConfigTest, BadAuthGivesThePreciseLineAndKey) {
  EXPECT_EQ(why("auth:\n  api_keys:\n    - principal: a\n      hash: secret123\n"),
            "4: auth.api_keys[0].hash: unknown hash scheme: expected sha256:<hex> or "
            "pbkdf2-sha256$... (make one with `evmeshctl hash-key`); plain keys are not accepted");
  EXPECT_EQ(why("auth:\n  api_keys:\n    - hash: sha256:00\n"),
            "3: auth.api_keys[0].hash: sha256 hash: expected sha256:<64 hex digits>");
  EXPECT_EQ(why("auth:\n  api_keys:\n    - principal: a\n"), "3: auth.api_keys[0].hash: is required");
  EXPECT_EQ(why("auth:\n  jwt:\n    - issuer: x\n      algorithm: ES256\n"),
            "4: auth.jwt[0].algorithm: must be one of HS256, RS256, got \"ES256\"");
  EXPECT_EQ(why("auth:\n  jwt:\n    - issuer: x\n      algorithm: HS256\n"),
            "3: auth.jwt[0].secret_file: HS256 needs secret_file or secret_env");
  EXPECT_EQ(why("auth:\n  jwt:\n    - issuer: x\n      algorithm: RS256\n      public_key_file: /nonexistent.pem\n"),
            "5: auth.jwt[0].public_key_file: cannot read '/nonexistent.pem': No such file or directory");
  write("not a key", "bad.pem");
  EXPECT_EQ(why("auth:\n  jwt:\n    - issuer: x\n      algorithm: RS256\n      public_key_file: " +
                file("bad.pem") + "\n"),
            "5: auth.jwt[0].public_key_file: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  EXPECT_EQ(why("auth:\n  jwt:\n    - issuer: x\n      algorithm: HS256\n      secret_env: EVMESH_TEST_UNSET_SECRET\n"),
            "5: auth.jwt[0].secret_env: the environment variable EVMESH_TEST_UNSET_SECRET is not set");
  EXPECT_EQ(why("auth:\n  anonymous: maybe\n"), "2: auth.anonymous: must be one of true, false, got \"maybe\"");
  EXPECT_EQ(why("auth:\n  mtls: {principal: san}\n"),
            "2: auth.mtls.principal: must be one of cn, dn, got \"san\"");
  EXPECT_EQ(why("auth:\n  tokens: []\n"),
            "2: auth.tokens: unknown key (auth keys: anonymous, api_keys, jwt, mtls)");
}

TEST_F(SecurityConfigTest, TlsAndAdminAreChecked) {
  EXPECT_EQ(why("http:\n  tls:\n    cert_file: /nonexistent.crt\n"),
            "3: http.tls.cert_file: cannot read '/nonexistent.crt': No such file or directory");
  write("x", "a.crt");
  EXPECT_EQ(why("http:\n  tls:\n    cert_file: " + file("a.crt") + "\n"),
            "3: http.tls: cert_file and key_file go together: set both (TLS) or neither (plaintext)");
  EXPECT_EQ(why("admin:\n  listen: 127.0.0.1\n"),
            "2: admin.listen: must be host:port (e.g. \"127.0.0.1:9090\"), got \"127.0.0.1\"");
  EXPECT_EQ(why("admin:\n  listen: 127.0.0.1:70000\n"),
            "2: admin.listen: must be host:port (e.g. \"127.0.0.1:9090\"), got \"127.0.0.1:70000\"");
  EXPECT_EQ(why("admin:\n  listen: 127.0.0.1:9090\n"),
            "2: admin.principals: is required with admin.listen: the principals allowed on the admin "
            "listener (\"*\" = any authenticated principal)");
  auto c = load("admin:\n  listen: '[::1]:9090'\n  principals: [ops]\n");
  EXPECT_EQ(c.admin.host, "::1");
  EXPECT_EQ(c.admin.port, 9090);
  EXPECT_EQ(c.admin.principals, std::vector<std::string>{"ops"});
  auto overridden = load("", {{"admin.listen", "127.0.0.1:0"}, {"admin.principals", "'*'"}});
  EXPECT_TRUE(overridden.admin.enabled());
}

TEST_F(SecurityConfigTest, MqttTlsTakesTheSameKeys) {
  write("x", "a.crt");
  write("x", "a.key");
  auto c = load("mqtt:\n  tls: {cert_file: " + file("a.crt") + ", key_file: " + file("a.key") + "}\n");
  EXPECT_TRUE(c.mqtt.tls.enabled());
  EXPECT_EQ(c.mqtt.tls.key_file, file("a.key"));
  EXPECT_EQ(why("mqtt:\n  tls:\n    key_file: " + file("a.key") + "\n"),
            "3: mqtt.tls: cert_file and key_file go together: set both (TLS) or neither (plaintext)");
  EXPECT_EQ(why("mqtt:\n  tls:\n    ca_file: x\n"),
            "3: mqtt.tls.ca_file: unknown key (mqtt.tls keys: cert_file, key_file, client_ca_file)");
}

TEST_F(SecurityConfigTest, AfterAReloadListenerKeysWaitForARestartButCertificatesDoNot) {
  write("x", "a.crt");
  write("x", "a.key");
  write("x", "b.crt");
  const auto tls = [&](const std::string& crt) {
    return "  tls: {cert_file: " + file(crt) + ", key_file: " + file("a.key") + "}\n";
  };
  const auto running = load("http:\n  port: 8080\n" + tls("a.crt") + kSeedAcl);
  const auto next = load("http:\n  port: 9999\n" + tls("b.crt") + "mqtt:\n  enabled: true\n" +
                         "dedup:\n  window: 10m\n");
  const auto in_force = config_in_force(running, next);
  EXPECT_EQ(in_force.http.port, 8080);                   // a restart
  EXPECT_EQ(in_force.dedup.window.count(), 0);           // a restart
  EXPECT_EQ(in_force.http.tls.cert_file, file("b.crt"));  // reloaded
  EXPECT_FALSE(in_force.mqtt.enabled);
  EXPECT_TRUE(in_force.acl.empty());                      // reloaded
  EXPECT_EQ(pending_restart(in_force, next), (std::vector<std::string>{"dedup.window", "http.port", "mqtt.enabled"}));
  EXPECT_TRUE(pending_restart(next, next).empty());
  // Turning TLS off is the listener's shape: a restart.
  const auto plain = config_in_force(running, load("http:\n  port: 8080\n"));
  EXPECT_EQ(plain.http.tls.cert_file, file("a.crt"));
}

}  // namespace
}  // namespace evmesh::control
