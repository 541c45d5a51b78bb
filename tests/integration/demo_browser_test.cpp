// The demo chat in a real browser: headless Chromium (driven by
// tests/browser/demo_chat.js) opens it through nginx in two browsers; a
// message typed in one goes PHP -> Redis PUBLISH -> gateway -> the other,
// both ways, and each lists who is online (the presence channel
// demo.presence, with tokens from examples/demo/token.php). Once per
// transport mode of the page. And token.php itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

const std::string kSecret = "demo-test-secret-0123456789";

// The gateway as scripts/up.sh configures it, with a short grace.
StackOptions demo_stack() {
  StackOptions options;
  options.demo = true;
  options.demo_token_secret = kSecret;
  options.gateway_args = {"--token-secret", kSecret,         "--public-channel", "demo.chat",
                          "--presence",     "demo.presence", "--presence-grace", "1"};
  return options;
}

void run_chat(const std::string& mode) {
  Stack stack(demo_stack());
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.http_port()) + "/demo/";
  auto r = run({"node", std::string(COMET_SOURCE_DIR) + "/tests/browser/demo_chat.js", url, mode,
                "1000", stack.dir().path() + "/demo.png"},
               stack.dir().path(), std::chrono::seconds(90));
  EXPECT_EQ(r.status, 0) << r.out << r.err << stack.logs();
  EXPECT_NE(r.out.find("ok: " + mode + ": both tabs saw both messages and both names"),
            std::string::npos)
      << r.out << r.err;
  std::cout << r.out;
}

TEST(DemoBrowser, TwoTabsChatSse) {
  run_chat("sse");
}
TEST(DemoBrowser, TwoTabsChatLongPoll) {
  run_chat("longpoll");
}
TEST(DemoBrowser, TwoTabsChatJsonp) {
  run_chat("jsonp");
}
TEST(DemoBrowser, TwoTabsChatShared) {
  run_chat("shared");
}

HttpResponse post_json(int port, const std::string& path, const std::string& body) {
  return http_request(port, "POST", path, {{"Content-Type", "application/json"}}, body);
}

// token.php names the page's user and the name it chose, as send.php checks
// names; the gateway takes its token for both demo channels and lists the
// user with its name (in the member list of the next poll).
TEST(DemoPhp, TokenNamesTheUserForThePresenceChannel) {
  Stack stack(demo_stack());
  const int port = stack.http_port();
  const std::string user = "0123456789abcdef";

  EXPECT_EQ(post_json(port, "/demo/token.php", R"({"name":"","user":")" + user + "\"}").status,
            400);
  EXPECT_EQ(
      post_json(port, "/demo/token.php",
                std::string(R"({"name":")") + std::string(41, 'x') + R"(","user":")" + user + "\"}")
          .status,
      400);
  for (const char* bad : {R"("0123")", R"("0123456789ABCDEF")", "7", "null"}) {
    auto r = post_json(port, "/demo/token.php",
                       std::string(R"({"name":"Zo\u00eb","user":)") + bad + "}");
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("bad_user"), std::string::npos) << r.body;
  }
  EXPECT_EQ(http_get(port, "/demo/token.php").status, 405);

  auto t = post_json(port, "/demo/token.php", R"({"name":" Zo\u00eb ","user":")" + user + "\"}");
  ASSERT_EQ(t.status, 200) << t.body << stack.logs();
  auto token = json::parse(t.body).at("token").get<std::string>();
  std::string payload = token.substr(0, token.find('.'));  // base64url
  std::replace(payload.begin(), payload.end(), '-', '+');
  std::replace(payload.begin(), payload.end(), '_', '/');
  auto claims = json::parse(base64_decode(payload));
  EXPECT_EQ(claims["ch"], json::array({"demo.chat", "demo.presence"}));
  EXPECT_EQ(claims["user"], user);
  EXPECT_EQ(claims["info"], json({{"name", "Zo\xC3\xAB"}}));

  // The chat is public; the presence channel needs the token.
  EXPECT_EQ(stack.get("/comet/poll?channel=demo.chat&timeout=0").status, 200);
  EXPECT_EQ(stack.get("/comet/poll?channel=demo.presence&timeout=0").status, 403);
  auto poll = stack.get("/comet/poll?channel=demo.chat,demo.presence&timeout=0&token=" + token);
  auto body = expect_poll_response(poll);
  ASSERT_FALSE(body["messages"].empty()) << poll.body;
  EXPECT_EQ(body["messages"][0]["presence"], "here");

  // The first answer's list was from before the user came.
  const auto here = [&] {
    auto r = stack.get("/comet/poll?channel=demo.presence&timeout=0&token=" + token);
    return r.status == 200 ? json::parse(r.body)["messages"][0]["members"] : json();
  };
  bool listed = wait_until(
      [&] {
        return here() == json::array({{{"user", user}, {"info", {{"name", "Zo\xC3\xAB"}}}}});
      },
      std::chrono::seconds(10));
  EXPECT_TRUE(listed) << here().dump();
}

TEST(DemoPhp, TokenWithoutASecretIsRefused) {
  TempDir dir;
  RedisServer redis(dir.subdir("redis"));
  PhpDemoServer php(dir.path(), redis.port());
  auto r = http_request(php.port(), "POST", "/token.php", {{"Content-Type", "application/json"}},
                        R"({"name":"ann","user":"0123456789abcdef"})");
  EXPECT_EQ(r.status, 503) << r.body;
}

}  // namespace
}  // namespace comet::test
