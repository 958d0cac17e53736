// Writes an HTTP/1.1 message that Gatehouse relays: its head formatted once into one contiguous buffer, and
// its body framed as it streams (raw for a known length or a close-delimited body, chunk lines for chunked).
// The head leaves together with the first body bytes, and the last chunk with the last bytes, so a small
// response is one write and one TCP segment — Beast's serializer would send the head and the body separately,
// as a dozen small iovecs.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "proxy/http/fields.h"

namespace gatehouse::proxy {

class OutgoingMessage {
 public:
  // Formats the head (start line, fields, blank line) into a buffer whose capacity is kept across messages.
  void startRequest(const http::RequestHeader& request);
  void startResponse(const http::ResponseHeader& response);
  // Chunked framing: the fields say `Transfer-Encoding: chunked` (set by the caller before start*).
  void setChunked(bool chunked) { chunked_ = chunked; }

  // The buffers of the next write: the head if it has not gone yet, then `data` framed, then — when `last`
  // and the body is chunked — the last chunk. Valid until the next call; the caller calls sent() once the
  // write completed.
  std::span<const boost::asio::const_buffer> next(std::string_view data, bool last);
  void sent() { head_sent_ = true; }
  // A retry on another connection sends the head again.
  void rewind() { head_sent_ = false; }

  // The formatted head (tests, logs).
  std::string_view head() const { return head_; }

 private:
  void appendFields(const http::Fields& fields);

  std::string head_;
  bool head_sent_ = false;
  bool chunked_ = false;
  std::array<char, 20> chunk_line_{};  // "<hex size>\r\n"
  std::array<boost::asio::const_buffer, 5> parts_;
};

}  // namespace gatehouse::proxy
