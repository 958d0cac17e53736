// Header-field bookkeeping in passes over the field list instead of lookups by name.
//
// Beast's basic_fields keeps its fields twice: a list in arrival order and a tree ordered by name. Every
// lookup by name (find, count, operator[], erase(name), set) walks that tree with case-insensitive string
// compares, and those taking a string first hash it to a field enum. A request's head holds a handful to a
// few dozen fields, each of which carries its enum (unknown for names Beast does not know): one walk over the
// list that compares enums answers several questions for less than one tree walk costs. The helpers here do
// exactly what the Beast calls they replace, so callers keep Beast's semantics.
#pragma once

#include <string_view>

#include <boost/beast/http/field.hpp>

#include "proxy/http/fields.h"

namespace gatehouse::http {

// A header name and its Beast enum, looked up once (at start-up) instead of on every use.
struct FieldName {
  explicit FieldName(std::string_view name) : text(name), id(boost::beast::http::string_to_field(name)) {}
  std::string_view text;
  boost::beast::http::field id;  // field::unknown for names Beast does not know (the X-* ones)
};

// X-Request-ID (request_id.h).
extern const FieldName kRequestIdField;

// True when `field` has this name, compared as Beast does (ASCII case-insensitive).
bool isNamed(const Fields::value_type& field, const FieldName& name);

// True when some field has this (known) name: fields.count(name) > 0, as one pass.
bool hasField(const Fields& fields, boost::beast::http::field name);

// Same result as fields.set(name.text, value): every field of that name is removed and the new one goes at
// the end of the list.
void replaceField(Fields& fields, const FieldName& name, std::string_view value);

// The request fields the proxy core reads, each as Fields::operator[] reads it: the value of the first field
// of that name, empty when there is none. Taken in one pass right after parsing, and valid until the fields
// change.
struct RequestFieldValues {
  std::string_view host;
  std::string_view accept;
  std::string_view connection;
  std::string_view expect;
  std::string_view request_id;  // X-Request-ID
  bool has_upgrade = false;     // some Upgrade field, even an empty one
};
RequestFieldValues scanRequestFields(const Fields& fields);

// message.keep_alive(keep_alive), with one pass instead of two lookups by name when there is no Connection
// field (the usual case once removeHopByHop ran): then Beast would only append "keep-alive" (HTTP/1.0 kept
// alive) or "close" (HTTP/1.1 closed). A message, not a header: Beast has these on messages only.
template <class Message>
void setKeepAlive(Message& message, bool keep_alive) {
  if (hasField(message, boost::beast::http::field::connection)) return message.keep_alive(keep_alive);
  const bool before_http11 = message.version() < 11;
  if (before_http11 == keep_alive) {
    message.insert(boost::beast::http::field::connection, keep_alive ? "keep-alive" : "close");
  }
}

// message.chunked(), without its lookup by name when there is no Transfer-Encoding field.
template <class Message>
bool isChunked(const Message& message) {
  return hasField(message, boost::beast::http::field::transfer_encoding) && message.chunked();
}

}  // namespace gatehouse::http
