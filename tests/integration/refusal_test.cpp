// The gateway's 503s tell clients when to come back: Retry-After on every
// refusal for load or for Redis, through nginx.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

TEST(Refusals, OverloadedPollsAndStreamsCarryRetryAfter) {
  StackOptions o;
  o.gateway_args = {"--max-parked", "1"};
  Stack stack(o);
  auto parked = stack.start_get("/comet/poll?channel=full&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();

  for (const std::string path :
       {"/comet/poll?channel=full&timeout=20", "/comet/sse?channel=full"}) {
    const HttpResponse r = stack.get(path);
    EXPECT_EQ(r.status, 503) << path << ": " << r.body;
    EXPECT_EQ(r.header("retry-after"), "2") << path;
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["error"], "overloaded");
  }
  // An interval poll needs no parking: still answered.
  EXPECT_EQ(stack.get("/comet/poll?channel=full&timeout=0").status, 200);
}

TEST(Refusals, PublishWithRedisDownCarriesRetryAfter) {
  StackOptions o;
  o.gateway_args = {"--publish-allow", "127.0.0.1", "--publish-allow", "::1"};
  Stack stack(o);
  stack.redis().kill9();
  ASSERT_TRUE(wait_until([&] { return stack.get("/comet/health").status == 503; },
                         std::chrono::seconds(20)))
      << stack.logs();
  const HttpResponse health = stack.get("/comet/health");
  EXPECT_EQ(health.header("retry-after"), "1");
  const HttpResponse r =
      http_request(stack.http_port(), "POST", "/comet/publish?channel=rd", {}, "x");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_NE(r.body.find("\"redis_unavailable\""), std::string::npos) << r.body;
}

// A poll refused after its parameters were read and its inputs dropped
// still carries the CORS header of its allowed Origin.
TEST(Refusals, ARefusedPollKeepsItsCorsHeader) {
  StackOptions o;
  o.gateway_args = {"--cors-origin", "https://site.example", "--max-parked-per-client", "1"};
  Stack stack(o);
  auto parked = stack.start_get("/comet/poll?channel=c&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  // The client's second poll is over its share: refused once its
  // parameters are read.
  const HttpResponse r =
      stack.get("/comet/poll?channel=c&timeout=5", {{"Origin", "https://site.example"}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("\"too_many_requests\""), std::string::npos) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://site.example");
  // The page's script may read when to come back.
  EXPECT_EQ(r.header("access-control-expose-headers"), "Retry-After");
  EXPECT_EQ(r.header("retry-after"), "5");
}

// What the FastCGI layer refuses on its own (a body over --max-body-bytes)
// keeps the CORS header of an allowed Origin, so the page can read why.
TEST(Refusals, ABodyOverTheLimitKeepsItsCorsHeader) {
  StackOptions o;
  o.gateway_args = {"--publish-allow", "127.0.0.1",           "--max-body-bytes", "8",
                    "--cors-origin",   "https://site.example"};
  Stack stack(o);
  const HttpResponse r = http_request(stack.http_port(), "POST", "/comet/publish?channel=c",
                                      {{"Origin", "https://site.example"}}, "more than eight");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("\"body_too_large\""), std::string::npos) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://site.example");
  const HttpResponse other = http_request(stack.http_port(), "POST", "/comet/publish?channel=c",
                                          {{"Origin", "https://evil.example"}}, "more than eight");
  EXPECT_EQ(other.status, 413);
  EXPECT_EQ(other.header("access-control-allow-origin"), "");
}

}  // namespace
}  // namespace comet::test
