// POST /comet/publish through nginx: off by default (poll_test.cpp), on with
// --publish-secret (Authorization: Bearer) or --publish-allow (client
// address). The body reaches the parked polls byte for byte.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

const std::string kSecret = "publish-secret-for-tests-0123";

HttpResponse post(Stack& stack, const std::string& query, const std::string& body,
                  const Headers& headers = {}) {
  return http_request(stack.http_port(), "POST", "/comet/publish?" + query, headers, body);
}

Headers bearer(const std::string& secret) {
  return {{"Authorization", "Bearer " + secret}};
}

json expect_json(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;
  return j;
}

TEST(HttpPublish, WithTheSecretReachesParkedPollsByteForByte) {
  StackOptions o;
  o.gateway_args = {"--publish-secret", kSecret, "--cors-origin", "https://site.example"};
  Stack stack(o);
  auto poll = stack.start_get("/comet/poll?channel=hp&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();

  const std::string payload("bytes \x00\xff\xfe and \xe2\x82\xac", 17);
  Headers h = bearer(kSecret);
  h["Origin"] = "https://site.example";
  auto accepted = post(stack, "channel=hp", payload, h);
  json j = expect_json(accepted, 202);
  EXPECT_EQ(j["published"], 1) << "one gateway subscribed";
  EXPECT_EQ(accepted.header("access-control-allow-origin"), "https://site.example");
  EXPECT_FALSE(j.contains("id"));

  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json p = expect_poll_response(*r);
  ASSERT_EQ(p["messages"].size(), 1u) << r->body;
  EXPECT_EQ(message_bytes(p["messages"][0]), payload);
}

TEST(HttpPublish, RefusedWithoutTheRightSecret) {
  StackOptions o;
  o.gateway_args = {"--publish-secret", kSecret};
  Stack stack(o);
  for (const Headers& h : {Headers{}, bearer(kSecret + "x"), bearer("wrong-secret-0123456789"),
                           Headers{{"Authorization", "Basic " + kSecret}}}) {
    json j = expect_json(post(stack, "channel=hp", "x", h), 403);
    EXPECT_EQ(j["error"], "forbidden");
  }
  json bad = expect_json(post(stack, "channel=a,b", "x", bearer(kSecret)), 400);
  EXPECT_EQ(bad["error"], "bad_channel");
  EXPECT_EQ(stack.metric("comet_messages_received_total").value_or(-1), 0);
}

TEST(HttpPublish, DurableReturnsTheStreamId) {
  StackOptions o;
  o.gateway_args = {"--publish-secret", kSecret};
  Stack stack(o);
  auto poll = stack.start_get("/comet/poll?channel=hd&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  json j = expect_json(post(stack, "channel=hd&durable=1", "kept", bearer(kSecret)), 202);
  ASSERT_TRUE(j.contains("id")) << j.dump();
  const std::string id = j["id"].get<std::string>();
  EXPECT_NE(id.find('-'), std::string::npos) << id;
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json p = expect_poll_response(*r);
  ASSERT_EQ(p["messages"].size(), 1u) << r->body;
  EXPECT_EQ(p["messages"][0]["id"], id);
  EXPECT_EQ(message_bytes(p["messages"][0]), "kept");
  // In the channel's stream, as Comet::publishDurable would have put it.
  RespClient c(stack.redis().port());
  EXPECT_EQ(c.command({"XLEN", "comet:{hd}:stream"}).integer, 1);
}

TEST(HttpPublish, AllowListAdmitsWithoutASecretAndRedisDownIs503) {
  StackOptions o;
  o.gateway_args = {"--publish-allow",  "127.0.0.1", "--publish-allow", "::1",
                    "--max-body-bytes", "64"};
  Stack stack(o);
  json j = expect_json(post(stack, "channel=al", "hi"), 202);
  EXPECT_EQ(j["published"], 1);
  // A body over --max-body-bytes is refused by the FastCGI layer, before the
  // endpoint sees it, and counted among the responses all the same.
  json big = expect_json(post(stack, "channel=al", std::string(65, 'x')), 413);
  EXPECT_EQ(big["error"], "body_too_large");
  auto stats = stack.gateway(0).request("GET", "stats", "");
  EXPECT_NE(stats.body.find("comet_responses_total{code=\"413\"} 1"), std::string::npos)
      << stats.body;

  stack.redis().kill9();
  ASSERT_TRUE(wait_until([&] { return stack.get("/comet/health").status == 503; },
                         std::chrono::seconds(20)))
      << stack.logs();
  json down = expect_json(post(stack, "channel=al", "lost?"), 503);
  EXPECT_EQ(down["error"], "redis_unavailable");
  EXPECT_EQ(down.value("message", "").find("may or may not"), std::string::npos)
      << "refused before sending: nothing was published";
}

// Any site can make a visitor's browser POST here (a simple request needs
// no preflight); a browser on an allowed address must not publish for it.
TEST(HttpPublish, AnotherSitesPageIsNotAdmittedByAddress) {
  StackOptions o;
  o.gateway_args = {"--publish-allow", "127.0.0.1", "--publish-allow", "::1",
                    "--publish-secret", kSecret, "--cors-origin", "https://site.example"};
  Stack stack(o);
  auto parked = stack.start_get("/comet/poll?channel=csrf&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();

  const Headers evil = {{"Origin", "https://evil.example"},
                        {"Content-Type", "text/plain"}};
  json refused = expect_json(post(stack, "channel=csrf", "forged", evil), 403);
  EXPECT_EQ(refused["error"], "forbidden");
  EXPECT_NE(refused.value("message", "").find("https://evil.example"), std::string::npos);
  // The site's own origin, a secret, or no Origin at all (a back end) pass.
  expect_json(post(stack, "channel=csrf", "one", {{"Origin", "https://site.example"}}), 202);
  Headers with_secret = bearer(kSecret);
  with_secret["Origin"] = "https://evil.example";
  expect_json(post(stack, "channel=csrf", "two", with_secret), 202);
  expect_json(post(stack, "channel=csrf", "three", {}), 202);

  auto r = parked->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  const json j = expect_poll_response(*r);
  ASSERT_GE(j["messages"].size(), 1u);
  for (const auto& m : j["messages"]) EXPECT_NE(message_bytes(m), "forged");
}

}  // namespace
}  // namespace comet::test
