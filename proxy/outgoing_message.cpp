#include "proxy/outgoing_message.h"

#include <charconv>
#include <cstring>

namespace gatehouse::proxy {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::string_view versionText(unsigned version) {
  return version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

char* copyText(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// A field's wire line, "Name: value\r\n". Beast stores each field as exactly that, in one piece (its own
// serializer sends the piece as is): when the value sits right after the name and ": ", the line is copied
// whole; otherwise it is put together.
char* copyFieldLine(char* out, const http::Fields::value_type& field) {
  const auto name = field.name_string();
  const auto value = field.value();
  if (value.data() == name.data() + name.size() + 2) {
    return copyText(out, std::string_view(name.data(), name.size() + 2 + value.size() + kCrlf.size()));
  }
  out = copyText(out, name);
  out = copyText(out, ": ");
  out = copyText(out, value);
  return copyText(out, kCrlf);
}

}  // namespace

void OutgoingMessage::appendFields(const http::Fields& fields) {
  // The size first, then one resize and plain copies: appending piece by piece would check (and maybe grow)
  // the capacity four times a field.
  std::size_t size = kCrlf.size();
  for (const auto& field : fields) size += field.name_string().size() + field.value().size() + 4;
  const auto start = head_.size();
  head_.resize(start + size);
  char* out = head_.data() + start;
  for (const auto& field : fields) out = copyFieldLine(out, field);
  copyText(out, kCrlf);
}

void OutgoingMessage::startRequest(const http::RequestHeader& request) {
  head_.clear();
  head_sent_ = false;
  head_.append(request.method_string());
  head_.push_back(' ');
  head_.append(request.target());
  head_.push_back(' ');
  head_.append(versionText(request.version()));
  head_.append(kCrlf);
  appendFields(request);
}

void OutgoingMessage::startResponse(const http::ResponseHeader& response) {
  head_.clear();
  head_sent_ = false;
  head_.append(versionText(response.version()));
  head_.push_back(' ');
  char code[4];
  const auto status = response.result_int();
  code[0] = static_cast<char>('0' + status / 100 % 10);
  code[1] = static_cast<char>('0' + status / 10 % 10);
  code[2] = static_cast<char>('0' + status % 10);
  code[3] = ' ';
  head_.append(code, sizeof(code));
  head_.append(response.reason());
  head_.append(kCrlf);
  appendFields(response);
}

std::span<const boost::asio::const_buffer> OutgoingMessage::next(std::string_view data, bool last) {
  std::size_t count = 0;
  if (!head_sent_) parts_[count++] = boost::asio::buffer(head_);
  if (!data.empty()) {
    if (chunked_) {
      auto [end, ec] =
          std::to_chars(chunk_line_.data(), chunk_line_.data() + chunk_line_.size() - 2, data.size(), 16);
      *end++ = '\r';
      *end++ = '\n';
      parts_[count++] =
          boost::asio::buffer(chunk_line_.data(), static_cast<std::size_t>(end - chunk_line_.data()));
    }
    parts_[count++] = boost::asio::buffer(data);
    if (chunked_) parts_[count++] = boost::asio::buffer(kCrlf);
  }
  if (last && chunked_) parts_[count++] = boost::asio::buffer(kLastChunk);
  return {parts_.data(), count};
}

}  // namespace gatehouse::proxy
