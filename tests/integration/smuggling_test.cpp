// Request smuggling vectors: each gets 400, the connection is closed, and nothing reaches the upstream.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

struct Vector {
  const char* name;
  std::string bytes;
};

// Names the vector in test output instead of dumping its bytes.
void PrintTo(const Vector& vector, std::ostream* out) {
  *out << vector.name;
}

class Smuggling : public ::testing::TestWithParam<Vector> {};

TEST_P(Smuggling, IsRejectedAndNeverReachesTheUpstream) {
  TestUpstream upstream;
  ProxyInstance proxy(
      testConfig(upstream.address(), "  - name: app\n    match: {prefix: /}\n    filters: []\n"));
  // The vector is followed by a request that would be smuggled if the first were misread.
  const auto result =
      rawExchange(proxy.port(), GetParam().bytes + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
  EXPECT_EQ(firstStatus(result.data), 400u) << result.data;
  EXPECT_TRUE(result.closed);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

const std::string kHead = "POST / HTTP/1.1\r\nHost: x\r\n";

INSTANTIATE_TEST_SUITE_P(
    Vectors, Smuggling,
    ::testing::Values(
        Vector{"ClAndTe", kHead + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        Vector{"TeAndCl", kHead + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
        Vector{"DifferingCl", kHead + "Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"},
        Vector{"ClList", kHead + "Content-Length: 4, 5\r\n\r\nabcde"},
        Vector{"ClSigned", kHead + "Content-Length: +4\r\n\r\nabcd"},
        Vector{"ClHex", kHead + "Content-Length: 0x4\r\n\r\nabcd"},
        Vector{"TeGzip", kHead + "Transfer-Encoding: gzip\r\n\r\n"},
        Vector{"TeNotFinalChunked", kHead + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
        Vector{"TeDoubleChunked",
               kHead + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        Vector{"TeObfuscated", kHead + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
        Vector{"ObsFold", kHead + "X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
        Vector{"BareCr", kHead + "X-Bad: a\rb\r\nContent-Length: 0\r\n\r\n"},
        Vector{"Nul", kHead + std::string("X-Bad: a\0b\r\n", 12) + "Content-Length: 0\r\n\r\n"},
        Vector{"SpaceBeforeColon", kHead + "Content-Length : 0\r\n\r\n"},
        Vector{"TabBeforeColon", kHead + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"},
        Vector{"BareLf", "POST / HTTP/1.1\nHost: x\nContent-Length: 0\n\n"},
        Vector{"Http10WithTe", "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}),
    [](const ::testing::TestParamInfo<Vector>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace gatehouse::testing
