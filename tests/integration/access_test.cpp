// Access control end to end: the gateway started with a token secret
// accepts tokens made by the site's PHP (Comet::token) for the channels
// they cover, and answers 403 otherwise.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

constexpr const char* kSecret = "an-example-secret-of-some-length";

// Comet::token($secret, CHANNELS, TTL[, IDENTITY]) in PHP; the exit status
// and output (the token, or the exception's message).
RunResult php_token_run(Stack& stack, const std::string& channels_php_array, int ttl,
                        const std::string& identity_php_array = "") {
  const std::string code =
      "require '" + std::string(COMET_SOURCE_DIR) + "/clients/php/Comet.php'; try { echo " +
      "Comet::token('" + kSecret + "', " + channels_php_array + ", " + std::to_string(ttl) +
      (identity_php_array.empty() ? "" : ", " + identity_php_array) +
      "); } catch (InvalidArgumentException $e) { echo $e->getMessage(); exit(3); }";
  return run({"php", "-r", code}, stack.dir().path(), std::chrono::seconds(30));
}

std::string php_token(Stack& stack, const std::string& channels_php_array, int ttl,
                      const std::string& identity_php_array = "") {
  auto r = php_token_run(stack, channels_php_array, ttl, identity_php_array);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  return r.out;
}

TEST(Access, TokensFromPhpOpenExactlyTheirChannels) {
  StackOptions options;
  options.gateway_args = {"--token-secret", kSecret};
  Stack stack(options);
  const std::string token = php_token(stack, "['room.1', 'user.7.*']", 600);
  ASSERT_FALSE(token.empty());
  const std::string t = "&token=" + url_encode(token);

  auto r = stack.get("/comet/poll?timeout=0&channel=room.1,user.7.inbox" + t);
  expect_poll_response(r);

  auto parked = stack.start_get("/comet/poll?timeout=20&channel=room.1" + t);
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish("room.1", "hello");
  auto released = parked->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(released);
  EXPECT_EQ(message_bytes(expect_poll_response(*released)["messages"][0]), "hello");

  for (const std::string& path : std::vector<std::string>{
           "/comet/poll?timeout=0&channel=room.1",                   // no token
           "/comet/poll?timeout=0&channel=room.2" + t,               // not covered
           "/comet/poll?timeout=0&channel=room.1,user.8.inbox" + t,  // one not covered
           "/comet/poll?timeout=0&channel=room.1&token=x." + token,  // tampered
           "/comet/sse?channel=room.2" + t}) {
    auto refused = stack.get(path);
    EXPECT_EQ(refused.status, 403) << path << "\n" << refused.body;
    const std::string code = json::parse(refused.body).value("error", "");
    EXPECT_TRUE(code == "token_required" || code == "channel_forbidden" || code == "bad_token")
        << refused.body;
  }
  EXPECT_EQ(json::parse(stack.get("/comet/poll?timeout=0&channel=room.1").body)["error"],
            "token_required");
  EXPECT_EQ(json::parse(stack.get("/comet/poll?timeout=0&channel=room.2" + t).body)["error"],
            "channel_forbidden");
}

// Public channels (--public-channel) need no token while access control is
// on; a poll naming private ones too needs a token for those.
TEST(Access, PublicChannelsNeedNoToken) {
  StackOptions options;
  options.gateway_args = {"--token-secret",   kSecret,   "--public-channel", "news",
                          "--public-channel", "public.*"};
  Stack stack(options);
  expect_poll_response(stack.get("/comet/poll?timeout=0&channel=news,public.sport"));
  auto parked = stack.start_get("/comet/sse?channel=news");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  auto refused = stack.get("/comet/poll?timeout=0&channel=news,room.1");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"], "token_required");
  const std::string token = php_token(stack, "['room.1']", 600);
  expect_poll_response(
      stack.get("/comet/poll?timeout=0&channel=news,room.1&token=" + url_encode(token)));
  EXPECT_EQ(stack.get("/comet/poll?timeout=0&channel=publicx").status, 403);
}

// A token may name its user, with what the site says of them: PHP signs
// it, the gateway reads it; what PHP refuses to sign is refused in PHP.
TEST(Access, TokensNamingTheirUser) {
  StackOptions options;
  options.gateway_args = {"--token-secret", kSecret};
  Stack stack(options);
  const std::string token = php_token(
      stack, "['chat.42']", 600,
      "['user' => '7', 'info' => ['name' => 'Ann \xc3\xa9', 'tags' => ['a/b', 1, true]]]");
  auto r = stack.get("/comet/poll?timeout=0&channel=chat.42&token=" + url_encode(token));
  expect_poll_response(r);
  EXPECT_EQ(r.status, 200) << r.body << stack.logs();
  for (const std::string& bad : std::vector<std::string>{
           "['user' => '']", "['user' => str_repeat('u', 129)]", "['user' => 7]",
           "['info' => ['name' => 'Ann']]", "['user' => '7', 'info' => str_repeat('x', 2000)]",
           "['user' => '7', 'info' => ['x' => str_repeat('x', 1020)]]", "['who' => '7']",
           "['user' => \"\\xff\"]"}) {
    auto refused = php_token_run(stack, "['chat.42']", 600, bad);
    EXPECT_EQ(refused.status, 3) << bad << ": " << refused.out << refused.err;
  }
}

// A stream is held to its token: it ends when the token expires (the
// browser reconnects with a fresh one), not at --sse-lifetime.
TEST(Access, AStreamEndsWhenItsTokenExpires) {
  StackOptions options;
  options.gateway_args = {"--token-secret", kSecret, "--sse-lifetime", "600"};
  Stack stack(options);
  const std::string token = php_token(stack, "['room.1']", 2);
  const auto opened = Clock::now();
  auto stream = stack.start_get("/comet/sse?channel=room.1&token=" + url_encode(token));
  ASSERT_TRUE(stream->read_until("retry:", std::chrono::seconds(5))) << stream->raw();
  // nginx ends the chunked body once the gateway ends the stream.
  ASSERT_TRUE(stream->read_until("\r\n0\r\n\r\n", std::chrono::seconds(10)))
      << stream->raw() << stack.logs();
  EXPECT_LT(Clock::now() - opened, std::chrono::seconds(5));
}

TEST(Access, OffByDefault) {
  Stack stack;
  expect_poll_response(stack.get("/comet/poll?timeout=0&channel=room.1"));
}

}  // namespace
}  // namespace comet::test
