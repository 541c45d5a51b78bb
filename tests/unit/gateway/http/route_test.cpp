#include "gateway/http/route.hpp"

#include <gtest/gtest.h>

#include <map>

namespace comet {
namespace {

std::string path_of(std::map<std::string, std::string> params) {
  return request_path([&](std::string_view n) -> std::string_view {
    auto it = params.find(std::string(n));
    return it == params.end() ? std::string_view{} : std::string_view(it->second);
  });
}

TEST(Route, DocumentUriWinsWhenPresent) {
  EXPECT_EQ(path_of({{"DOCUMENT_URI", "/comet/poll"}, {"SCRIPT_NAME", "/x/stats"}}), "/comet/poll");
}

TEST(Route, ScriptNameAndPathInfoWhenDocumentUriEmpty) {
  // Apache's mod_proxy_fcgi and lighttpd send these, sometimes with an empty
  // DOCUMENT_URI.
  EXPECT_EQ(path_of({{"DOCUMENT_URI", ""}, {"SCRIPT_NAME", "/comet"}, {"PATH_INFO", "/poll"}}),
            "/comet/poll");
  EXPECT_EQ(path_of({{"SCRIPT_NAME", "/a/b/comet/health"}}), "/a/b/comet/health");
}

TEST(Route, RequestUriPathAsLastResort) {
  EXPECT_EQ(path_of({{"REQUEST_URI", "/deep/mount/poll?channel=a&x=/stats"}}), "/deep/mount/poll");
}

TEST(Route, LastSegmentDecides) {
  EXPECT_EQ(endpoint_for_path("/comet/poll"), Endpoint::poll);
  EXPECT_EQ(endpoint_for_path("/a/b/c/sse"), Endpoint::sse);
  EXPECT_EQ(endpoint_for_path("/publish"), Endpoint::publish);
  EXPECT_EQ(endpoint_for_path("/comet/channels"), Endpoint::channels);
  EXPECT_EQ(endpoint_name(Endpoint::channels), "channels");
  EXPECT_EQ(endpoint_for_path("stats"), Endpoint::stats);
  EXPECT_EQ(endpoint_for_path("/x/health"), Endpoint::health);
  EXPECT_EQ(endpoint_for_path("/comet/poll/"), Endpoint::unknown);
  EXPECT_EQ(endpoint_for_path("/comet/polls"), Endpoint::unknown);
  EXPECT_EQ(endpoint_for_path("/poll/other"), Endpoint::unknown);
  EXPECT_EQ(endpoint_for_path(""), Endpoint::unknown);
}

}  // namespace
}  // namespace comet
