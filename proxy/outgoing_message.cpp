#include "proxy/outgoing_message.h"

#include <charconv>

namespace gatehouse::proxy {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::string_view versionText(unsigned version) {
  return version == 10 ? "HTTP/1.0" : "HTTP/1.1";
}

}  // namespace

void OutgoingMessage::appendFields(const http::Fields& fields) {
  for (const auto& field : fields) {
    head_.append(field.name_string());
    head_.append(": ");
    head_.append(field.value());
    head_.append(kCrlf);
  }
  head_.append(kCrlf);
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
