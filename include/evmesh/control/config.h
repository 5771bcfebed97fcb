// Typed daemon configuration, loaded once from YAML and validated. The running
// config is immutable. docs/configuration.md is the user reference.
//
// Every key can be overridden: on the command line with `--set key=value` (dotted
// path, e.g. --set http.port=0) and in the environment with EVMESH_<PATH>, path
// segments joined by "__" and upper-cased (EVMESH_HTTP__PORT=0). Precedence:
// command line > environment > file > built-in default. An override's value is
// parsed as YAML (a scalar or a flow collection: --set 'subscriptions=[{...}]').
// `subscriptions` can only be overridden whole. EVMESH_* variables that neither
// contain "__" nor start with a section name (EVMESH_SOURCE_DIR) are not config.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evmesh/control/acl.h"
#include "evmesh/control/auth.h"
#include "evmesh/control/policy.h"
#include "evmesh/runtime/subscription.h"
#include "evmesh/store/event_store.h"

namespace evmesh::control {

// TLS on a listener (docs/security.md): off while cert_file is empty. With
// client_ca_file, clients must present a certificate that CA signed (mTLS).
struct TlsConfig {
  std::string cert_file, key_file, client_ca_file;  // PEM
  bool enabled() const { return !cert_file.empty(); }
};

struct HttpListenerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_event_bytes = 1 << 20;        // one event (binary body / structured JSON)
  std::size_t max_batch_bytes = 4 << 20;        // a batch request body
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive between requests
  std::size_t max_connections = 1024;
  // A publish that finds a subscription queue full waits up to this long for
  // room before the 503; 0: answer 503 at once.
  std::chrono::milliseconds publish_wait{1'000};
  TlsConfig tls;
};

// The admin listener (docs/security.md): off while `listen` is empty. Every request
// must authenticate as one of `principals` ("*" = any authenticated principal).
struct AdminListenerConfig {
  std::string host;  // from listen: "127.0.0.1:9090"
  std::uint16_t port = 0;
  std::vector<std::string> principals;
  TlsConfig tls;
  bool enabled() const { return !host.empty(); }
};

// The gRPC listener (docs/grpc.md). On by default.
struct GrpcListenerConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";
  std::uint16_t port = 50051;
  std::size_t max_message_bytes = 4 << 20;          // one request or response message
  std::chrono::milliseconds keepalive_time{60'000};  // ping an idle connection this often
  std::chrono::milliseconds keepalive_timeout{20'000};  // close it when the ping is not answered
  std::size_t max_in_flight = 64;                    // Subscribe: default credit (un-acked events)
  // A publish finding a full queue waits this long for space (the client's deadline
  // permitting), then fails with RESOURCE_EXHAUSTED. 0 = fail at once.
  std::chrono::milliseconds publish_wait{1'000};
  TlsConfig tls;
};

struct RuntimeConfig {
  unsigned threads = 0;                     // 0 = one per core
  unsigned delivery_threads = 1;            // dispatchers and sinks, apart from ingress
  std::size_t max_subscriptions = 10'000;
  std::chrono::milliseconds drain_timeout{10'000};  // SIGTERM: wait for deliveries
};

struct WebhookConfig {
  std::size_t max_idle_connections_per_sink = 16;
  std::chrono::milliseconds connect_timeout{5'000};
  std::size_t pipeline_depth = 1;  // in-order requests in flight per sink (HTTP/1.1 pipelining)
};

// One external MQTT broker evmeshd bridges to with Paho (docs/mqtt-bridges.md).
// Inbound: messages on `subscribe` filters become events. Outbound: subscriptions
// with sink "mqtt://NAME/TOPIC" publish there. QoS 1 both ways.
struct MqttTopicTypeConfig {
  std::string filter;  // MQTT topic filter
  std::string type;    // event type of a plain (non-CloudEvent) message on it
};
struct MqttBridgeConfig {
  std::string name;                 // its key under mqtt_bridges
  std::string url;                  // tcp://host:port
  std::string client_id;            // default "evmesh-NAME"; "-in" / "-out" appended
  int protocol_version = 4;         // 4 = MQTT 3.1.1, 5 = MQTT 5.0
  std::string username, password;   // empty: none
  std::chrono::milliseconds keepalive{30'000};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds session_expiry{86'400'000};  // MQTT 5: the broker keeps our session
  std::chrono::milliseconds initial_backoff{200};        // reconnect schedule
  std::chrono::milliseconds max_backoff{30'000};
  std::vector<std::string> subscribe;                    // topic filters ingested at QoS 1
  std::size_t max_in_flight = 64;   // outbound QoS 1 publishes awaiting PUBACK
  std::size_t max_message_bytes = 1 << 20;  // inbound payload; larger ones are dropped
  std::vector<MqttTopicTypeConfig> types;                // first match wins
  std::string default_type = "io.evmesh.mqtt.message";
};

// The native MQTT 3.1.1 / 5.0 listener (docs/protocols.md). Off by default.
struct MqttListenerConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::size_t max_packet_bytes = 1 << 20;          // a bigger packet closes the connection (0x95)
  std::size_t max_connections = 100'000;
  std::uint16_t receive_maximum = 1024;            // QoS 2 messages a client may have in flight to us
  std::uint16_t topic_alias_maximum = 64;          // topic aliases a 5.0 client may set
  std::chrono::milliseconds connect_timeout{10'000};  // TCP accept -> CONNECT
  // 5.0 clients asking for more (or 0) get this as Server Keep Alive; 3.1.1 cannot be told.
  std::chrono::milliseconds max_keep_alive{60'000};
  std::size_t max_queued_messages = 1000;          // per session: queued QoS 1/2 (offline or slow)
  std::chrono::milliseconds slow_subscriber_timeout{30'000};  // queue full this long: disconnect
  std::chrono::milliseconds max_session_expiry{86'400'000};  // cap; 3.1.1 persistent sessions get this
  std::size_t max_retained_messages = 100'000;
  // Mesh -> MQTT: the topic an event is published on when it has no `mqtttopic`
  // extension; {attribute} is replaced by the attribute's value.
  std::string event_topic = "events/{type}";
  std::string event_mode = "binary";               // binary | structured (for 5.0 subscribers)
  unsigned event_qos = 1;
  // MQTT -> mesh: a plain message becomes an event with these defaults.
  std::string source_prefix = "/mqtt/";            // source = prefix + client id
  std::string default_type = "io.evmesh.mqtt.message";
  std::vector<MqttTopicTypeConfig> topic_types;    // first match wins
  TlsConfig tls;                                   // MQTT over TLS (port 8883 by convention)
};

// The event store of durable subscriptions (docs/storage.md). Opened when the
// first durable subscription is created; nothing touches the disk before that.
struct StoreConfig {
  std::filesystem::path data_dir = "data";  // relative to the working directory
  store::CommitPolicy commit = store::CommitPolicy::group;
  std::chrono::milliseconds sync_interval{100};  // commit: interval
  std::chrono::milliseconds retention{0};  // keep settled events this long, for replay
  std::uint64_t retention_bytes = 0;  // cap on the log's event bytes; 0: none
};

// Duplicate suppression at ingress (docs/delivery.md#duplicate-suppression).
struct DedupConfig {
  std::chrono::milliseconds window{0};  // same source + id within it: not delivered again; 0: off
  std::size_t max_keys = 1'000'000;     // keys remembered at most (the oldest go first)
};

struct LogConfig {
  std::string level = "info";     // trace, debug, info, warn, error, off
  std::string format = "plain";   // plain | json
};

// Policies, schemas and reload (docs/policies.md, docs/schemas.md, docs/operations.md).
// Relative paths are resolved against the config file's directory.
struct EncryptionConfig {
  std::filesystem::path key_file;   // empty: encrypt-fields is refused
};
struct SchemasConfig {
  std::filesystem::path directory;  // empty: no schemas from files
};
struct ReloadConfig {
  bool watch = true;                // reload when a watched file changes (plus SIGHUP)
};

struct Config {
  std::filesystem::path file;
  HttpListenerConfig http;
  GrpcListenerConfig grpc;
  RuntimeConfig runtime;
  WebhookConfig webhook;
  StoreConfig store;
  DedupConfig dedup;
  LogConfig log;
  DeliveryPolicy delivery;        // defaults for every subscription
  SinkSpec sink_defaults;         // mode and timeout defaults
  std::vector<Subscription> subscriptions;
  std::vector<MqttBridgeConfig> mqtt_bridges;
  MqttListenerConfig mqtt;
  AuthConfig auth;
  std::vector<AclEntryConfig> acl;
  AdminListenerConfig admin;
  std::vector<Policy> policies;   // `policy:` (one object or a list), in file order
  EncryptionConfig encryption;
  SchemasConfig schemas;
  ReloadConfig reload;
};

// Thrown only at start-up (and by reload later): names the file, line and key.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when unknown
  const std::string& key() const { return key_; }

 private:
  std::string file_, key_;
  int line_;
};

using Overrides = std::vector<std::pair<std::string, std::string>>;  // dotted key, value

// Reads `file`, applies environment then command-line overrides, validates.
// Unknown keys are errors. A missing file is an error; an empty one means all
// defaults. Throws ConfigError; what() reads "file:line: key: message" (for an
// override: "--set: http.port: ..." or "EVMESH_HTTP__PORT: http.port: ...").
// Call at start-up (or reload) from one thread; nothing is shared.
Config load_config(const std::filesystem::path& file, const Overrides& cli,
                   char** environ_block);

// Byte sizes as the config writes them: 1048576, "1048576", "512KiB", "1 MiB",
// "4GB" (B, KB, MB, GB are powers of 1000; KiB, MiB, GiB powers of 1024).
std::optional<std::uint64_t> parse_size(std::string_view s);

}  // namespace evmesh::control
