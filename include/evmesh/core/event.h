// Event: an immutable CloudEvent 1.0 (https://github.com/cloudevents/spec, core spec).
//
// Every context attribute is held in its canonical string form (the form the HTTP
// binding puts in a header), which is what filters compare. Extensions also keep the
// JSON kind they arrived with (string, boolean, integer) so the JSON format can write
// them back unchanged. Data is a shared immutable byte buffer: fan-out to N
// subscriptions copies a pointer, never the payload.
//
// Build one with EventBuilder; build() validates every rule of the core spec and
// names the offending attribute in the error. An Event, once built, is valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evmesh/core/error.h"

namespace evmesh {

// The CloudEvents type system, for the attributes whose type the spec fixes.
enum class AttrType { boolean, integer, string, binary, uri, uri_reference, timestamp };

// How an extension value is written in the JSON format.
enum class JsonKind : std::uint8_t { string, boolean, integer };

struct Extension {
  std::string value;  // canonical string form
  JsonKind kind = JsonKind::string;
  friend bool operator==(const Extension&, const Extension&) = default;
};

using Bytes = std::string;  // raw octets
using DataPtr = std::shared_ptr<const Bytes>;

class Event {
 public:
  const std::string& id() const { return id_; }
  const std::string& source() const { return source_; }
  const std::string& specversion() const { return specversion_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& datacontenttype() const { return datacontenttype_; }
  const std::optional<std::string>& dataschema() const { return dataschema_; }
  const std::optional<std::string>& subject() const { return subject_; }
  const std::optional<std::string>& time() const { return time_; }
  const std::map<std::string, Extension, std::less<>>& extensions() const { return extensions_; }

  // nullptr when the event has no data. An empty buffer is data of zero length.
  const DataPtr& data() const { return data_; }
  bool has_data() const { return data_ != nullptr; }

  // The canonical string of any attribute (core or extension) by its lower-case
  // name; nullopt when the event does not carry it. Used by filters.
  std::optional<std::string_view> attribute(std::string_view name) const;

  // Visits every attribute the event carries, core first, in a stable order.
  template <typename F>
  void for_each_attribute(F&& f) const {
    f(std::string_view("specversion"), std::string_view(specversion_));
    f(std::string_view("id"), std::string_view(id_));
    f(std::string_view("source"), std::string_view(source_));
    f(std::string_view("type"), std::string_view(type_));
    if (datacontenttype_) f(std::string_view("datacontenttype"), std::string_view(*datacontenttype_));
    if (dataschema_) f(std::string_view("dataschema"), std::string_view(*dataschema_));
    if (subject_) f(std::string_view("subject"), std::string_view(*subject_));
    if (time_) f(std::string_view("time"), std::string_view(*time_));
    for (const auto& [k, v] : extensions_) f(std::string_view(k), std::string_view(v.value));
  }

  // Total size in bytes of attributes and data, for size limits.
  std::size_t approximate_size() const;

  friend bool operator==(const Event&, const Event&);

 private:
  friend class EventBuilder;
  std::string id_, source_, specversion_, type_;
  std::optional<std::string> datacontenttype_, dataschema_, subject_, time_;
  std::map<std::string, Extension, std::less<>> extensions_;
  DataPtr data_;
};

using EventPtr = std::shared_ptr<const Event>;

// Collects attributes from a decoder, then validates once in build().
// set() accepts any attribute name; the core ones are checked against their type.
class EventBuilder {
 public:
  EventBuilder() = default;
  // Starts from an existing event (e.g. to add dead-letter extensions).
  explicit EventBuilder(const Event& base);

  // Sets an attribute from its canonical string form (HTTP header, MQTT property).
  EventBuilder& set(std::string_view name, std::string value, JsonKind kind = JsonKind::string);
  EventBuilder& remove(std::string_view name);
  EventBuilder& data(DataPtr bytes);
  EventBuilder& data(Bytes bytes);

  // Validates: required attributes present and non-empty, specversion "1.0",
  // attribute names [a-z0-9]+ (the spec only RECOMMENDS at most 20 characters, so
  // longer names are accepted), values free of control characters and valid UTF-8,
  // typed attributes well formed. The error's pointer is the offending attribute.
  Result<EventPtr> build() &&;

 private:
  Event ev_;
  std::vector<std::pair<std::string, std::string>> pending_errors_;
};

// Attribute-level validators, exposed for codecs and tests.
// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. Says nothing about which characters a CloudEvents String allows.
bool valid_utf8(std::string_view bytes);
bool valid_attribute_name(std::string_view name);
bool valid_uri(std::string_view s);            // absolute URI (RFC 3986 scheme ":" ...)
bool valid_uri_reference(std::string_view s);  // non-empty, RFC 3986 characters (non-ASCII let through)
bool valid_timestamp(std::string_view s);      // RFC 3339 date-time
// The instant of an RFC 3339 date-time (fractions down to microseconds; a leap
// second counts as :59); nullopt when !valid_timestamp(s).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s);
bool valid_integer(std::string_view s);        // canonical decimal (-?(0|[1-9]...)), signed 32 bits
bool valid_boolean(std::string_view s);        // "true" | "false"
// The type of a core attribute; nullopt for extensions.
std::optional<AttrType> core_attribute_type(std::string_view name);

}  // namespace evmesh
