// Parsing an HTTP message from bytes already read, without an asynchronous read:
// a message that arrived whole (a publish; webhook answers that came together) then
// costs no composed read operation and no timer. Used by the listener's sessions
// and the webhook pipeline.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace evmesh::http {

// True when the parser got its header (`whole`: the whole message) or failed (ec
// set); false when it needs more bytes: then read asynchronously with the same
// parser, which keeps what it has consumed.
template <class Parser>
bool parse_buffered(Parser& parser, boost::beast::flat_buffer& buffer, bool whole, boost::beast::error_code& ec) {
  const auto finished = [&] { return whole ? parser.is_done() : parser.is_header_done(); };
  while (!finished() && buffer.size() > 0) {
    const auto n = parser.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
    if (n == 0) return false;
  }
  return finished();
}

}  // namespace evmesh::http
