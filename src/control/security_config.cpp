#include "security_config.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "spec_detail.h"

namespace evmesh::control::detail {
namespace {

std::string known(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// Calls fn(name, value, key) for each entry of a mapping after checking the name.
template <typename Fn>
void read_object(const Reader& r, const YAML::Node& node, const std::string& key,
                 std::initializer_list<std::string_view> names, Fn&& fn) {
  if (!node.IsMap()) r.fail(node, key, "must be a mapping with keys " + known(names));
  r.for_each(node, key, [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& v) {
    const auto child = join_key(key, name);
    if (std::ranges::find(names, name) == names.end())
      r.fail(key_node, child, "unknown key (" + key + " keys: " + known(names) + ")");
    if (!v.IsDefined() || v.IsNull()) r.fail(key_node, child, "has no value");
    fn(name, v, child);
  });
}

template <typename Fn>
void read_list(const Reader& r, const YAML::Node& node, const std::string& key, Fn&& fn) {
  if (!node.IsSequence()) r.fail(node, key, "must be a list");
  for (std::size_t i = 0; i < node.size(); ++i) fn(node[i], key + "[" + std::to_string(i) + "]");
}

void require(const Reader& r, const YAML::Node& node, const std::string& key,
             std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (!node[std::string(n)].IsDefined())
      r.fail(node, join_key(key, n), "is required");
}

std::string read_text_file(const Reader& r, const YAML::Node& node, const std::string& key) {
  const auto path = r.text(node, key);
  std::ifstream in(path, std::ios::binary);
  if (!in) r.fail(node, key, "cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void read_acl_rules(const Reader& r, const YAML::Node& node, const std::string& key,
                    std::vector<AclRuleConfig>& out) {
  read_list(r, node, key, [&](const YAML::Node& item, const std::string& item_key) {
    if (!item.IsMap() || item.size() != 1)
      r.fail(item, item_key,
             "must be a mapping with exactly one of publish or subscribe, e.g. "
             "{publish: \"com.example.*\"}");
    read_object(r, item, item_key, {"publish", "subscribe"},
                [&](const std::string& name, const YAML::Node& v, const std::string& k) {
                  out.push_back({name == "publish" ? AclAction::publish : AclAction::subscribe,
                                 r.text(v, k)});
                });
  });
}

}  // namespace

void read_api_keys(const Reader& r, const YAML::Node& node, const std::string& key,
                   AuthConfig& auth) {
  read_list(r, node, key, [&](const YAML::Node& item, const std::string& item_key) {
    ApiKeyConfig k;
    read_object(r, item, item_key, {"principal", "hash"},
                [&](const std::string& name, const YAML::Node& v, const std::string& kk) {
                  if (name == "principal") {
                    k.principal = r.text(v, kk);
                  } else {
                    k.hash = r.text(v, kk);
                    if (auto ok = check_hash(k.hash); !ok) r.fail(v, kk, ok.error().message);
                  }
                });
    require(r, item, item_key, {"principal", "hash"});
    k.line = item.Mark().line + 1;
    auth.api_keys.push_back(std::move(k));
  });
}

void read_jwt(const Reader& r, const YAML::Node& node, const std::string& key, AuthConfig& auth) {
  read_list(r, node, key, [&](const YAML::Node& item, const std::string& item_key) {
    JwtIssuerConfig j;
    read_object(
        r, item, item_key,
        {"issuer", "audience", "algorithm", "secret_file", "secret_env", "public_key_file",
         "principal_claim", "principal_prefix", "leeway"},
        [&](const std::string& name, const YAML::Node& v, const std::string& k) {
          if (name == "issuer") j.issuer = r.text(v, k);
          else if (name == "audience") j.audiences = read_strings(r, v, k);
          else if (name == "algorithm") j.algorithm = r.one_of(v, k, {"HS256", "RS256"});
          else if (name == "secret_file") j.secret = read_text_file(r, v, k);
          else if (name == "public_key_file") j.public_key_pem = read_text_file(r, v, k);
          else if (name == "principal_claim") j.principal_claim = r.text(v, k);
          else if (name == "principal_prefix") j.principal_prefix = v.Scalar();
          else if (name == "leeway")
            j.leeway = std::chrono::duration_cast<std::chrono::seconds>(r.duration(v, k, true));
          else if (name == "secret_env") {
            const auto var = r.text(v, k);
            const char* value = std::getenv(var.c_str());
            if (!value || !*value) r.fail(v, k, "the environment variable " + var + " is not set");
            j.secret = value;
          }
        });
    require(r, item, item_key, {"issuer", "algorithm"});
    // A trailing newline in a secret file is an editor's, not part of the secret.
    while (!j.secret.empty() && (j.secret.back() == '\n' || j.secret.back() == '\r')) j.secret.pop_back();
    const bool hs = j.algorithm == "HS256";
    if (hs && j.secret.empty())
      r.fail(item, item_key + ".secret_file", "HS256 needs secret_file or secret_env");
    if (!hs && j.public_key_pem.empty())
      r.fail(item, item_key + ".public_key_file", "RS256 needs public_key_file");
    if (hs && !j.public_key_pem.empty())
      r.fail(item["public_key_file"], item_key + ".public_key_file",
             "is for RS256; HS256 takes secret_file or secret_env");
    if (!hs && !j.secret.empty())
      r.fail(item, item_key + ".algorithm", "RS256 takes public_key_file, not a secret");
    if (auto v = make_jwt_verifier(j); !v)
      r.fail(node_at(item, v.error().pointer), join_key(item_key, v.error().pointer),
             v.error().message);
    auth.jwt.push_back(std::move(j));
  });
}

void read_mtls(const Reader& r, const YAML::Node& node, const std::string& key, AuthConfig& auth) {
  read_object(r, node, key, {"principal", "prefix"},
              [&](const std::string& name, const YAML::Node& v, const std::string& k) {
                if (name == "principal") auth.mtls.principal = r.one_of(v, k, {"cn", "dn"});
                else auth.mtls.prefix = v.Scalar();
              });
}

void read_listen(const Reader& r, const YAML::Node& node, const std::string& key,
                 AdminListenerConfig& admin) {
  if (node.IsScalar() && node.Scalar().empty()) return;  // "" = off
  const auto text = r.text(node, key);
  const auto colon = text.rfind(':');
  unsigned port = 0;
  const char* end = text.data() + text.size();
  if (colon == std::string::npos || colon == 0 ||
      std::from_chars(text.data() + colon + 1, end, port).ptr != end || colon + 1 == text.size() ||
      port > 65535)
    r.fail(node, key, "must be host:port (e.g. \"127.0.0.1:9090\"), got " + quote(text));
  admin.host = text.substr(0, colon);
  if (admin.host.size() > 2 && admin.host.front() == '[' && admin.host.back() == ']')
    admin.host = admin.host.substr(1, admin.host.size() - 2);  // [::1]:9090
  admin.port = static_cast<std::uint16_t>(port);
}

std::vector<std::string> read_strings(const Reader& r, const YAML::Node& node, const std::string& key) {
  if (node.IsScalar()) return {r.text(node, key)};
  std::vector<std::string> out;
  read_list(r, node, key,
            [&](const YAML::Node& item, const std::string& k) { out.push_back(r.text(item, k)); });
  return out;
}

void read_acl(const Reader& r, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  read_list(r, node, "acl", [&](const YAML::Node& item, const std::string& key) {
    AclEntryConfig e;
    read_object(r, item, key, {"name", "principal", "allow", "deny"},
                [&](const std::string& name, const YAML::Node& v, const std::string& k) {
                  if (name == "name") e.name = r.text(v, k);
                  else if (name == "principal") e.principal = r.text(v, k);
                  else read_acl_rules(r, v, k, name == "allow" ? e.allow : e.deny);
                });
    require(r, item, key, {"name", "principal"});
    if (e.allow.empty() && e.deny.empty())
      r.fail(item, key, "needs allow or deny rules");
    config.acl.push_back(std::move(e));
  });
}

void check_security(const Reader& r, const YAML::Node& root, const Config& config) {
  const YAML::Node acl_node = root.IsMap() ? root["acl"] : YAML::Node();
  if (auto acl = Acl::compile(config.acl); !acl)
    r.fail(node_at(acl_node, acl.error().pointer.substr(3)), acl.error().pointer,
           acl.error().message);
  if (auto auth = Authenticator::make(config.auth, !config.acl.empty()); !auth)
    r.fail(node_at(root, auth.error().pointer), auth.error().pointer, auth.error().message);
  if (config.admin.enabled() && config.admin.principals.empty())
    r.fail(node_at(root, "admin.listen"), "admin.principals",
           "is required with admin.listen: the principals allowed on the admin listener "
           "(\"*\" = any authenticated principal)");
}

}  // namespace evmesh::control::detail
