// Reading a webhook's response: a Beast parser that keeps the status and drops the
// rest (we only care about the status), and the error texts for a failed read. Shared by
// the one-request Exchange and the pipelined connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/optional.hpp>

#include "adapters/http/webhook_config.h"

namespace evmesh::http {

// One response's status line and Retry-After, parsed by Beast's parser without
// storing any other field or the body: webhooks answer with whatever they like and
// we only care about the status. (A response_parser would allocate every field.)
// Header limit 16 KiB, body bounded by `max_body`.
class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  explicit ResponseParser(std::size_t max_body) {
    header_limit(16 * 1024);
    body_limit(max_body);
  }

  int status() const { return status_; }
  std::string_view reason() const { return reason_; }
  // The first Retry-After field's value; empty when there is none.
  std::string_view retry_after() const { return retry_after_; }

 private:
  using ec_t = boost::beast::error_code;
  using sv = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, sv, sv, int, ec_t&) override {}
  void on_response_impl(int code, sv reason, int, ec_t&) override {
    status_ = code;
    reason_.assign(reason.data(), reason.size());
  }
  void on_field_impl(boost::beast::http::field name, sv, sv value, ec_t&) override {
    if (name == boost::beast::http::field::retry_after && !has_retry_after_) {
      has_retry_after_ = true;
      retry_after_.assign(value.data(), value.size());
    }
  }
  void on_header_impl(ec_t&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, ec_t&) override {}
  std::size_t on_body_impl(sv body, ec_t&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, sv, ec_t&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, sv body, ec_t&) override { return body.size(); }
  void on_finish_impl(ec_t&) override {}

  int status_ = 0;
  bool has_retry_after_ = false;
  std::string reason_, retry_after_;
};

// One response being read (kept as a unit so a read can start over on an interim
// 1xx response by replacing it).
struct ResponseReader {
  explicit ResponseReader(std::size_t max_body) : parser(max_body) {}
  ResponseParser parser;
};

// Why reading a response failed (before its header was complete), naming the sink.
std::string read_error_text(boost::beast::error_code ec, const WebhookConfig& config);

}  // namespace evmesh::http
