#include "gateway/redis/sentinel_resolve.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using Type = SentinelResolve::Action::Type;
using Args = std::vector<std::string>;

const std::vector<RedisHostPort> kSentinels = {
    {"10.0.0.1", 26379}, {"10.0.0.2", 26379}, {"::1", 26380}};

test::Reply address(const std::string& host, const std::string& port) {
  return test::resp("*2\r\n" + test::bulk(host) + test::bulk(port));
}

// Connects to the sentinel the action names, and checks it.
void expect_connect(const SentinelResolve::Action& a, const RedisHostPort& at) {
  ASSERT_EQ(a.type, Type::connect);
  EXPECT_EQ(a.sentinel, at);
}

TEST(SentinelResolve, TheFirstSentinelNamesTheMaster) {
  SentinelResolve r(kSentinels, "mymaster", {});
  expect_connect(r.start(), kSentinels[0]);
  auto a = r.on_connected();
  ASSERT_EQ(a.type, Type::send);
  EXPECT_TRUE(a.auth.empty());
  EXPECT_EQ(a.command, (Args{"SENTINEL", "get-master-addr-by-name", "mymaster"}));
  a = r.on_reply(*address("10.0.1.5", "6380"));
  ASSERT_EQ(a.type, Type::found);
  EXPECT_EQ(a.master, (RedisHostPort{"10.0.1.5", 6380}));
}

TEST(SentinelResolve, AuthIsPipelinedAndARefusalMovesOn) {
  SentinelResolve r(kSentinels, "m", {"AUTH", "s3cret"});
  r.start();
  auto a = r.on_connected();
  EXPECT_EQ(a.auth, (Args{"AUTH", "s3cret"}));
  EXPECT_EQ(r.on_auth_reply(*test::status("OK")).type, Type::wait);
  r.on_auth_reply(*test::status("OK"));
  expect_connect(r.on_auth_reply(*test::error("WRONGPASS invalid username-password pair")),
                 kSentinels[1]);
  // A late answer of the sentinel given up on is not taken.
  EXPECT_EQ(r.on_reply(*address("10.9.9.9", "1")).type, Type::wait);
}

TEST(SentinelResolve, UnknownMasterUnreachableAndRefusedPassToTheNextThenFail) {
  SentinelResolve r(kSentinels, "mymaster", {});
  r.start();
  r.on_connected();
  expect_connect(r.on_reply(*test::resp("*-1\r\n")), kSentinels[1]);  // not monitored there
  expect_connect(r.on_error("Connection refused"), kSentinels[2]);
  r.on_connected();
  auto a = r.on_reply(*test::error("ERR unknown command"));
  ASSERT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why,
            "no sentinel named master mymaster (sentinel 10.0.0.1:26379: does not know the "
            "master; sentinel 10.0.0.2:26379: Connection refused; sentinel [::1]:26380: refused "
            "(ERR unknown command))");
}

TEST(SentinelResolve, ATimeoutIsAnEvent) {
  SentinelResolve r({{"10.0.0.1", 26379}}, "m", {});
  r.start();
  r.on_connected();
  auto a = r.on_error("no answer in time");
  ASSERT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "no sentinel named master m (sentinel 10.0.0.1:26379: no answer in time)");
  // The round is over: a stray event changes nothing.
  EXPECT_EQ(r.on_error("late").type, Type::wait);
}

TEST(SentinelResolve, MalformedAddresses) {
  for (auto [host, port] : {std::pair{"", "6379"}, std::pair{"h", "0"}, std::pair{"h", "65536"},
                            std::pair{"h", "63x"}, std::pair{"h", ""}}) {
    SentinelResolve r({{"10.0.0.1", 26379}}, "m", {});
    r.start();
    r.on_connected();
    auto a = r.on_reply(*address(host, port));
    ASSERT_EQ(a.type, Type::failed) << host << ":" << port;
    EXPECT_NE(a.why.find("a malformed address"), std::string::npos) << a.why;
  }
  SentinelResolve r({{"10.0.0.1", 26379}}, "m", {});
  r.start();
  r.on_connected();
  EXPECT_EQ(r.on_reply(*test::resp("*2\r\n" + test::bulk("h") + ":6379\r\n")).type, Type::failed);
}

TEST(SentinelResolve, TheSentinelThatAnsweredIsAskedFirstNextRound) {
  SentinelResolve r(kSentinels, "m", {});
  r.start();
  expect_connect(r.on_error("down"), kSentinels[1]);
  r.on_connected();
  ASSERT_EQ(r.on_reply(*address("h", "1")).type, Type::found);
  expect_connect(r.start(), kSentinels[1]);
  // And a round that fails all through starts after the one tried last.
  r.on_error("x");
  r.on_error("x");
  EXPECT_EQ(r.on_error("x").type, Type::failed);
  expect_connect(r.start(), kSentinels[1]);
}

TEST(SentinelResolve, EventsBeforeTheirTimeAreIgnored) {
  SentinelResolve r(kSentinels, "m", {});
  EXPECT_EQ(r.on_connected().type, Type::wait);
  EXPECT_EQ(r.on_reply(*address("h", "1")).type, Type::wait);
  r.start();
  // Connecting: no reply can be ours yet.
  EXPECT_EQ(r.on_reply(*address("h", "1")).type, Type::wait);
}

}  // namespace
}  // namespace comet
