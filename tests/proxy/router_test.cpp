#include <gtest/gtest.h>

#include "proxy/router.h"

namespace gatehouse::proxy {
namespace {

config::Route route(std::string name, config::RouteMatch::Kind kind, std::string path,
                    std::vector<std::string> methods = {}, std::string host = {}) {
  config::Route r;
  r.name = std::move(name);
  r.match.kind = kind;
  r.match.path = path;
  if (kind == config::RouteMatch::Kind::Regex) r.match.regex = std::make_shared<const std::regex>(path);
  r.match.methods = std::move(methods);
  r.match.host = std::move(host);
  return r;
}

using Kind = config::RouteMatch::Kind;

TEST(Router, FirstMatchWins) {
  const std::vector<config::Route> routes = {route("api", Kind::Prefix, "/api/"),
                                             route("all", Kind::Prefix, "/")};
  EXPECT_EQ(matchRoute(routes, {"/api/users", "GET", ""})->name, "api");
  EXPECT_EQ(matchRoute(routes, {"/api", "GET", ""})->name, "all");
}

TEST(Router, ExactRegexMethodsAndHost) {
  const std::vector<config::Route> routes = {route("exact", Kind::Exact, "/health"),
                                             route("regex", Kind::Regex, "/users/[0-9]+"),
                                             route("post", Kind::Prefix, "/items", {"POST", "PUT"}),
                                             route("host", Kind::Prefix, "/", {}, "api.example.com")};
  EXPECT_EQ(matchRoute(routes, {"/health", "GET", ""})->name, "exact");
  EXPECT_EQ(matchRoute(routes, {"/healthz", "GET", ""}), nullptr);
  EXPECT_EQ(matchRoute(routes, {"/users/12", "GET", ""})->name, "regex");
  EXPECT_EQ(matchRoute(routes, {"/users/12/x", "GET", ""}), nullptr);  // a regex matches the whole path
  EXPECT_EQ(matchRoute(routes, {"/items/1", "PUT", ""})->name, "post");
  EXPECT_EQ(matchRoute(routes, {"/items/1", "GET", ""}), nullptr);
  EXPECT_EQ(matchRoute(routes, {"/x", "GET", "API.Example.com:443"})->name, "host");
  EXPECT_EQ(matchRoute(routes, {"/x", "GET", "other.example.com"}), nullptr);
}

TEST(Router, TargetPathDropsTheQuery) {
  EXPECT_EQ(targetPath("/a/b?x=1&y=2"), "/a/b");
  EXPECT_EQ(targetPath("/a"), "/a");
  EXPECT_EQ(targetPath("/?"), "/");
  EXPECT_EQ(targetPath("http://example.com/a/b?x"), "/a/b");
  EXPECT_EQ(targetPath("HTTPS://example.com"), "/");
}

}  // namespace
}  // namespace gatehouse::proxy
