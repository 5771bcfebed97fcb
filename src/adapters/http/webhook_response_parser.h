// Reading a webhook's response: a Beast parser whose body is counted and dropped
// (we only care about the status), and the error texts for a failed read. Shared by
// the one-request Exchange and the pipelined connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/optional.hpp>

#include "adapters/http/webhook_config.h"

namespace evmesh::http {

// A Beast body that counts the response body and keeps none of it: webhooks
// answer with whatever they like and we only care about the status.
struct DiscardBody {
  struct value_type {
    std::uint64_t size = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      auto n = boost::beast::buffer_bytes(buffers);
      body_.size += n;
      ec = {};
      return n;
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// One response: header limit 16 KiB, body bounded by `max_body`.
struct ResponseReader {
  explicit ResponseReader(std::size_t max_body) {
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body);
  }
  boost::beast::http::response_parser<DiscardBody> parser;
};

// Why reading a response failed (before its header was complete), naming the sink.
std::string read_error_text(boost::beast::error_code ec, const WebhookConfig& config);

}  // namespace evmesh::http
