#include "proxy/http/request_checks.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::string_literals;

// The reason of the defect, or "" when the head passes.
std::string rawReason(std::string_view head) {
  const auto found = checkRawHead(head);
  return found ? std::string(found->reason) : std::string();
}

std::string framingReason(const RequestHeader& request) {
  const auto found = checkFraming(request);
  if (found) {
    EXPECT_EQ(found->status, bhttp::status::bad_request);
  }
  return found ? std::string(found->reason) : std::string();
}

RequestHeader makeRequest(std::string_view target = "/", unsigned version = 11) {
  RequestHeader request;
  request.method(bhttp::verb::post);
  request.target(target);
  request.version(version);
  request.insert(bhttp::field::host, "example.com");
  return request;
}

// ---- checkRawHead
// -------------------------------------------------------------------------------------------

TEST(CheckRawHead, AcceptsAWellFormedHead) {
  EXPECT_EQ(rawReason("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\n"), "");
}

TEST(CheckRawHead, AcceptsHtabAndObsTextInValues) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-Note: caf\xc3\xa9\tlatte\r\n\r\n"), "");
}

TEST(CheckRawHead, IgnoresBytesAfterTheHead) {
  EXPECT_EQ(rawReason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\0\r\n"s), "");
}

TEST(CheckRawHead, RejectsNul) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"s), "NUL in request head");
  EXPECT_EQ(rawReason("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"s), "NUL in request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nX\0A: b\r\n\r\n"s), "NUL in request head");
}

TEST(CheckRawHead, RejectsBareCr) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n"), "bare CR in request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\rHost: a\r\n\r\n"), "bare CR in request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), "bare CR in request head");
}

TEST(CheckRawHead, RejectsBareLf) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\nHost: a\n\n"), "bare LF in request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n"), "bare LF in request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\n\n"), "bare LF in request head");
}

TEST(CheckRawHead, RejectsObsFold) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), "obsolete line folding");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"), "obsolete line folding");
  // A first field line that starts with whitespace is the classic "hidden header" trick.
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n"),
            "obsolete line folding");
}

TEST(CheckRawHead, RejectsWhitespaceBeforeColon) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
            "whitespace in or after field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 1\r\n\r\n"),
            "whitespace in or after field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n"), "whitespace in or after field name");
}

TEST(CheckRawHead, RejectsInvalidAndEmptyNames) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX\"A: b\r\n\r\n"), "invalid field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n"), "invalid field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX\x01"
                      "A: b\r\n\r\n"),
            "invalid field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nCaf\xc3\xa9: b\r\n\r\n"), "invalid field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), "empty field name");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), "field line without colon");
}

TEST(CheckRawHead, RejectsControlCharactersInValues) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01\r\n\r\n"), "control character in field value");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n"), "control character in field value");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\nX-A: \x1b[31m\r\n\r\n"),
            "control character in field value");
}

TEST(CheckRawHead, RejectsControlCharactersInTheRequestLine) {
  EXPECT_EQ(rawReason("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), "control character in request line");
  EXPECT_EQ(rawReason("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), "control character in request line");
}

TEST(CheckRawHead, RejectsIncompleteAndEmptyHeads) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r\n"), "incomplete request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\r"), "incomplete request head");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nHost: a\rb"), "bare CR in request head");
  EXPECT_EQ(rawReason(""), "incomplete request head");
  EXPECT_EQ(rawReason("\r\n"), "empty request line");
}

TEST(CheckRawHead, DefectsAre400) {
  const auto found = checkRawHead("GET / HTTP/1.1\nHost: a\n\n");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, bhttp::status::bad_request);
}

// ---- checkFraming
// -------------------------------------------------------------------------------------------

TEST(CheckFraming, AcceptsPlainChunkedAndLengthRequests) {
  auto plain = makeRequest();
  plain.method(bhttp::verb::get);
  EXPECT_EQ(framingReason(plain), "");

  auto length = makeRequest();
  length.insert(bhttp::field::content_length, "42");
  EXPECT_EQ(framingReason(length), "");

  auto zero = makeRequest();
  zero.insert(bhttp::field::content_length, "0");
  EXPECT_EQ(framingReason(zero), "");

  auto chunked = makeRequest();
  chunked.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(framingReason(chunked), "");

  auto upper = makeRequest();
  upper.insert(bhttp::field::transfer_encoding, "CHUNKED");
  EXPECT_EQ(framingReason(upper), "");

  auto max = makeRequest();
  max.insert(bhttp::field::content_length, "18446744073709551615");
  EXPECT_EQ(framingReason(max), "");
}

TEST(CheckFraming, RejectsContentLengthWithTransferEncoding) {
  auto request = makeRequest();
  request.insert(bhttp::field::content_length, "5");
  request.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(framingReason(request), "both Content-Length and Transfer-Encoding");
}

TEST(CheckFraming, RejectsSeveralContentLengths) {
  auto differing = makeRequest();
  differing.insert(bhttp::field::content_length, "5");
  differing.insert(bhttp::field::content_length, "6");
  EXPECT_EQ(framingReason(differing), "several Content-Length fields");

  auto identical = makeRequest();
  identical.insert(bhttp::field::content_length, "5");
  identical.insert(bhttp::field::content_length, "5");
  EXPECT_EQ(framingReason(identical), "several Content-Length fields");

  auto list = makeRequest();
  list.insert(bhttp::field::content_length, "5, 6");
  EXPECT_EQ(framingReason(list), "Content-Length list value");

  auto same_list = makeRequest();
  same_list.insert(bhttp::field::content_length, "5,5");
  EXPECT_EQ(framingReason(same_list), "Content-Length list value");
}

TEST(CheckFraming, RejectsMalformedContentLength) {
  for (const auto* value : {"+5", "-5", "5 5", "0x10", "", "5a", "1e3", "5.0", "18446744073709551616",
                            "99999999999999999999999"}) {
    auto request = makeRequest();
    request.insert(bhttp::field::content_length, value);
    EXPECT_EQ(framingReason(request), "invalid Content-Length") << "Content-Length: " << value;
  }
}

TEST(CheckFraming, RejectsTransferEncodingOtherThanOneChunked) {
  for (const auto* value : {"gzip", "identity", "chunked, chunked", "gzip, chunked", "chunked, gzip",
                            "chunked;x", "chunked;q=1", "xchunked", "chunked-false", "\"chunked\"", ""}) {
    auto request = makeRequest();
    request.insert(bhttp::field::transfer_encoding, value);
    const auto reason = framingReason(request);
    EXPECT_TRUE(reason == "Transfer-Encoding other than chunked" || reason == "empty Transfer-Encoding")
        << "Transfer-Encoding: " << value << " gave '" << reason << "'";
  }
}

TEST(CheckFraming, CountsSeveralTransferEncodingFieldsAsOneList) {
  auto twice = makeRequest();
  twice.insert(bhttp::field::transfer_encoding, "chunked");
  twice.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(framingReason(twice), "Transfer-Encoding other than chunked");

  auto empty_elements = makeRequest();
  empty_elements.insert(bhttp::field::transfer_encoding, " , chunked ,");
  EXPECT_EQ(framingReason(empty_elements), "");
}

TEST(CheckFraming, RejectsTransferEncodingInHttp10) {
  auto request = makeRequest("/", 10);
  request.insert(bhttp::field::transfer_encoding, "chunked");
  EXPECT_EQ(framingReason(request), "Transfer-Encoding in HTTP/1.0");
}

TEST(CheckFraming, ChecksHost) {
  auto missing = makeRequest();
  missing.erase(bhttp::field::host);
  EXPECT_EQ(framingReason(missing), "missing Host");

  auto old = makeRequest("/", 10);
  old.erase(bhttp::field::host);
  EXPECT_EQ(framingReason(old), "");

  auto twice = makeRequest();
  twice.insert(bhttp::field::host, "evil.example");
  EXPECT_EQ(framingReason(twice), "several Host fields");
}

TEST(CheckFraming, ChecksTheTargetForm) {
  EXPECT_EQ(framingReason(makeRequest("/path?q=1")), "");
  EXPECT_EQ(framingReason(makeRequest("http://example.com/path")), "");
  EXPECT_EQ(framingReason(makeRequest("HTTPS://example.com/")), "");
  EXPECT_EQ(framingReason(makeRequest("example.com:443")), "request target not in origin-form");
  EXPECT_EQ(framingReason(makeRequest("path")), "request target not in origin-form");
  EXPECT_EQ(framingReason(makeRequest("http://")), "request target not in origin-form");
  EXPECT_EQ(framingReason(makeRequest("*")), "asterisk-form target outside OPTIONS");

  auto options = makeRequest("*");
  options.method(bhttp::verb::options);
  EXPECT_EQ(framingReason(options), "");
}

// ---- both stages, as the data plane runs them
// ---------------------------------------------------------------

// Runs the raw check, Beast's parser and the framing check; "" when the request passes all three.
std::string pipelineReason(std::string_view head) {
  if (auto found = checkRawHead(head)) return std::string(found->reason);
  bhttp::request_parser<bhttp::empty_body, FieldAllocator> parser;
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec) return "parser: " + ec.message();
  if (auto found = checkFraming(parser.get().base())) return std::string(found->reason);
  return "";
}

TEST(RequestChecks, CatchWhatBeastAccepts) {
  // Beast reads these as a request without a body, so the body would be taken for the next request.
  EXPECT_EQ(pipelineReason("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
            "Transfer-Encoding other than chunked");
  EXPECT_EQ(pipelineReason("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x\r\n\r\n"),
            "Transfer-Encoding other than chunked");
  EXPECT_EQ(pipelineReason("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "Transfer-Encoding in HTTP/1.0");
  EXPECT_EQ(pipelineReason("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            "several Content-Length fields");
  EXPECT_EQ(pipelineReason("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
            "whitespace in or after field name");
}

TEST(RequestChecks, PassOrdinaryRequests) {
  EXPECT_EQ(
      pipelineReason("GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"), "");
  EXPECT_EQ(pipelineReason("POST /api HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                           "Content-Length: 2\r\n\r\n"),
            "");
  EXPECT_EQ(pipelineReason("POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), "");
  EXPECT_EQ(pipelineReason("GET / HTTP/1.0\r\n\r\n"), "");
}

TEST(FieldRules, NamesAndValues) {
  EXPECT_TRUE(isFieldName("X-Custom_Header.1"));
  EXPECT_FALSE(isFieldName(""));
  EXPECT_FALSE(isFieldName("X Custom"));
  EXPECT_FALSE(isFieldName("X:Custom"));
  EXPECT_TRUE(isFieldValue("no-store, max-age=0\tok"));
  EXPECT_TRUE(isFieldValue(""));
  EXPECT_FALSE(isFieldValue("a\r\nInjected: yes"));
  EXPECT_FALSE(isFieldValue("a\nb"));
}

// The control-character scans look at eight bytes at a time: every byte at every position of a word, around
// words of filler that must not set them off (letters, obs-text, HTAB in values).
bool isNaiveControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

TEST(CheckRawHead, FindsEveryControlCharacterInAValueAtEveryPosition) {
  for (const char filler : {'a', '\xff', '\t', '\x80'}) {
    for (std::size_t at = 0; at < 20; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        const auto c = static_cast<char>(byte);
        if (c == '\r' || c == '\n') continue;  // they end lines: tested on their own
        std::string value(20, filler);
        value[at] = c;
        const auto head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + value + "\r\n\r\n";
        std::string expected;
        if (c == '\0') {
          expected = "NUL in request head";
        } else if (isNaiveControl(static_cast<unsigned char>(c)) && c != '\t') {
          expected = "control character in field value";
        }
        ASSERT_EQ(rawReason(head), expected) << "byte " << byte << " at " << at << " filler " << int(filler);
        ASSERT_EQ(isFieldValue(value), expected.empty()) << "byte " << byte << " at " << at;
      }
    }
  }
}

TEST(CheckRawHead, FindsAControlCharacterInValuesOfEveryLength) {
  for (std::size_t length = 1; length <= 25; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (const char c : {'\x01', '\x1f', '\x7f', '\0'}) {
        std::string value(length, 'v');
        value[at] = c;
        const auto head = "GET / HTTP/1.1\r\nX-A: " + value + "\r\n\r\n";
        const auto expected = c == '\0' ? "NUL in request head" : "control character in field value";
        ASSERT_EQ(rawReason(head), expected) << "length " << length << " at " << at;
        ASSERT_FALSE(isFieldValue(value)) << "length " << length << " at " << at;
      }
    }
    // Tabs (allowed) fill every word, and the overlapping last one, without hiding anything.
    std::string tabs(length, '\t');
    EXPECT_TRUE(isFieldValue(tabs));
    tabs.back() = '\x01';
    EXPECT_FALSE(isFieldValue(tabs)) << "length " << length;
  }
}

TEST(CheckRawHead, FindsEveryControlCharacterInTheRequestLineAtEveryPosition) {
  for (std::size_t at = 1; at < 20; ++at) {
    for (int byte = 0; byte < 256; ++byte) {
      const auto c = static_cast<char>(byte);
      if (c == '\n') continue;
      std::string target = "/" + std::string(19, '\xc3');
      target[at] = c;
      const auto head = "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
      std::string expected;
      if (c == '\0') {
        expected = "NUL in request head";
      } else if (c == '\r') {
        expected = "bare CR in request head";
      } else if (isNaiveControl(static_cast<unsigned char>(c))) {
        expected = "control character in request line";
      }
      ASSERT_EQ(rawReason(head), expected) << "byte " << byte << " at " << at;
    }
  }
}

TEST(CheckRawHead, ReportsTheFirstOfSeveralControlCharacters) {
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nX-A: abcdefg\t\x01\x00\r\n\r\n"s),
            "control character in field value");
  EXPECT_EQ(rawReason("GET / HTTP/1.1\r\nX-A: abcdefg\t\x00\x01\r\n\r\n"s), "NUL in request head");
  EXPECT_EQ(rawReason("GET /\x01\rbcdefghij HTTP/1.1\r\nHost: a\r\n\r\n"),
            "control character in request line");
  // Split literals: "\x01bc..." would read as one hex escape.
  EXPECT_EQ(rawReason("GET /\r\x01"
                      "bcdefghij HTTP/1.1\r\nHost: a\r\n\r\n"),
            "bare CR in request head");
}

}  // namespace
}  // namespace gatehouse::http
