// Feeding a Beast parser from the bytes a connection has buffered, one socket read at a time, for the relay.
//
// Beast's http::async_read reads until the parser's body buffer is full or the message ends: a body that
// trickles (server-sent events, a slow upload) would wait for 16 KiB before a byte of it is relayed. The
// relay instead parses what has arrived and passes on whatever body bytes it yields right away. The socket
// read stays with the caller; these functions only say whether to read more.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace gatehouse::http {

enum class ParseGoal {
  Header,    // until the header is complete
  SomeBody,  // until the body buffer received at least one byte, is full, or the message is complete
};

// Whether the unparsed start of a chunk line (or of the trailers) holds a line feed without its carriage
// return. Beast looks for CRLF only, so a bare-LF chunked body would otherwise wait for a CRLF that never
// comes instead of being refused.
inline bool hasBareLineFeed(std::string_view pending) {
  for (auto i = pending.find('\n'); i != std::string_view::npos; i = pending.find('\n', i + 1)) {
    if (i == 0 || pending[i - 1] != '\r') return true;
  }
  return false;
}

// Parses the buffered bytes towards `goal`, consuming what the parser used. Returns true when the caller can
// act (the goal is reached, or `ec` is set), false when more bytes must be read. `room` is the body buffer's
// size when the caller set it (SomeBody: bytes written since then count as progress).
//
// `framing_limit` bounds what a chunked body's framing may make the buffer hold: Beast parses a chunk-size
// line (with its extensions) and the trailers only once they are complete, and puts no limit on them, so a
// peer sending an endless chunk line would grow the buffer without end. Past the limit, or on a bare LF in
// such a line, ec is bad_chunk.
template <class Parser>
bool parseBuffered(Parser& parser, boost::beast::flat_buffer& buffer, ParseGoal goal, std::size_t room,
                   std::size_t framing_limit, boost::system::error_code& ec) {
  namespace bhttp = boost::beast::http;
  ec = {};
  const auto reached = [&] {
    if (goal == ParseGoal::Header) return parser.is_header_done();
    return parser.is_done() || parser.get().body().size == 0;
  };
  while (!reached() && buffer.size() > 0) {
    const auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (parser.is_header_done() && parser.chunked()) {
        // Only a chunk line or the trailers are incomplete once the head is in (a sized body never is).
        const std::string_view pending(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (pending.size() > framing_limit || hasBareLineFeed(pending)) {
          ec = bhttp::error::bad_chunk;
          return true;
        }
      }
      break;  // an incomplete header or chunk line: wait for the rest
    }
    if (ec == bhttp::error::need_buffer) {
      ec = {};
      return true;  // the body buffer is full: relay it, then go on
    }
    if (ec) return true;
    if (used == 0) break;
  }
  if (reached()) return true;
  return goal == ParseGoal::SomeBody && parser.get().body().size < room;
}

// What the end of the stream means to a parser: the end of a close-delimited body (no error), a message cut
// short (partial_message), or, before any byte of a message, the peer simply closing (end_of_stream, as
// Beast's own reads say).
template <class Parser>
boost::system::error_code parseEndOfStream(Parser& parser) {
  if (!parser.got_some()) return boost::beast::http::error::end_of_stream;
  boost::system::error_code ec;
  parser.put_eof(ec);
  return ec;
}

}  // namespace gatehouse::http
