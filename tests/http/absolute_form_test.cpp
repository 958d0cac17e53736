#include "proxy/http/absolute_form.h"

#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

TEST(AbsoluteForm, SplitsAuthorityAndOriginForm) {
  const auto form = parseAbsoluteForm("http://example.com:8080/a/b?q=1");
  ASSERT_TRUE(form);
  EXPECT_TRUE(form->valid);
  EXPECT_EQ(form->authority, "example.com:8080");
  EXPECT_EQ(form->origin_form, "/a/b?q=1");
}

TEST(AbsoluteForm, SchemeIsCaseInsensitiveAndAnEmptyPathIsTheRoot) {
  const auto form = parseAbsoluteForm("HTTPS://Example.com");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->authority, "Example.com");
  EXPECT_EQ(form->origin_form, "/");
  EXPECT_EQ(parseAbsoluteForm("http://h?x=1")->origin_form, "/?x=1");
  EXPECT_EQ(parseAbsoluteForm("http://h/p#frag")->origin_form, "/p");
  EXPECT_EQ(parseAbsoluteForm("http://[::1]:80/p")->authority, "[::1]:80");
}

TEST(AbsoluteForm, OriginFormAndOtherSchemesAreNotAbsoluteForm) {
  EXPECT_FALSE(parseAbsoluteForm("/http://x"));
  EXPECT_FALSE(parseAbsoluteForm("*"));
  EXPECT_FALSE(parseAbsoluteForm("ftp://host/file"));
  EXPECT_FALSE(parseAbsoluteForm("http:/host"));
}

TEST(AbsoluteForm, NoHostOrUserInformationIsInvalid) {
  EXPECT_FALSE(parseAbsoluteForm("http:///path")->valid);
  EXPECT_FALSE(parseAbsoluteForm("http://")->valid);
  EXPECT_FALSE(parseAbsoluteForm("http://user:pw@host/")->valid);
}

}  // namespace
}  // namespace gatehouse::http
