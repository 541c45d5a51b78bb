#include "gateway/redis/reply_router.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using test::bulk;
using Router = ReplyRouter<int>;
using Type = Router::Step::Type;

const std::string kConfirm = "*3\r\n" + bulk("psubscribe") + bulk("comet:*") + ":1\r\n";

std::string pmessage(const std::string& channel, const std::string& payload) {
  return "*4\r\n" + bulk("pmessage") + bulk("comet:*") + bulk(channel) + bulk(payload);
}

// What a router hands out for `bytes`: "entry:type" per reply, then
// "failed: why" or nothing more.
std::vector<std::string> steps(Router& r, const std::string& bytes) {
  r.feed(bytes);
  std::vector<std::string> out;
  for (;;) {
    auto s = r.next();
    if (s.type == Type::need_more) return out;
    if (s.type == Type::failed) {
      out.push_back("failed: " + s.why);
      return out;
    }
    out.push_back(std::to_string(*s.entry) + ":" + std::to_string(s.reply->type));
  }
}

// The subscriber's connection, confirmed: PSUBSCRIBE comet:* (entry 7).
void subscribe(Router& r) {
  r.sent_subscribe(7, true, {"comet:*"});
  ASSERT_EQ(steps(r, kConfirm), std::vector<std::string>{"7:2"});
  ASSERT_TRUE(r.subscribed());
}

bool failed(const std::vector<std::string>& s) {
  return !s.empty() && s.back().starts_with("failed: ");
}

TEST(ReplyRouter, RepliesGoToTheCommandsInTheOrderSent) {
  Router r;
  r.sent(1);
  r.sent(2);
  r.sent(3);
  EXPECT_EQ(steps(r, "+OK\r\n:5\r\n" + bulk("x")), (std::vector<std::string>{"1:5", "2:3", "3:1"}));
  EXPECT_EQ(r.waiting(), 0u);
  EXPECT_FALSE(r.failed());
}

TEST(ReplyRouter, SameRepliesAtEverySplitOfTheBytes) {
  const std::string bytes = "+OK\r\n" + bulk("hello") + "*2\r\n" + bulk("a") + ":7\r\n-ERR no\r\n";
  const std::vector<std::string> whole = {"1:5", "2:1", "3:2", "4:6"};
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    Router r;
    for (int i = 1; i <= 4; ++i) r.sent(i);
    auto got = steps(r, bytes.substr(0, cut));
    auto rest = steps(r, bytes.substr(cut));
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, whole) << "cut at " << cut;
  }
}

TEST(ReplyRouter, AReplyWithNothingWaitingEndsTheConnection) {
  Router r;
  auto s = steps(r, "+OK\r\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0], "failed: a reply with no command waiting (a status of 2 bytes)");
  // Final: nothing more is handed out, whatever comes.
  r.sent(1);
  EXPECT_EQ(steps(r, "+OK\r\n"), s);
  EXPECT_TRUE(r.failed());
}

TEST(ReplyRouter, AnUnsolicitedErrorIsDescribedNotQuoted) {
  Router r;
  auto s = steps(r, "-ERR max number of clients reached\r\n");
  ASSERT_TRUE(failed(s));
  EXPECT_NE(s.back().find("an error of 33 bytes"), std::string::npos) << s.back();
  EXPECT_EQ(s.back().find("clients"), std::string::npos) << "the bytes are not logged";
}

TEST(ReplyRouter, AReplyAfterQuitsAnswerEndsTheConnection) {
  Router r;
  r.sent(1);  // QUIT
  auto s = steps(r, "+OK\r\n:1\r\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "1:5");
  EXPECT_EQ(s[1], "failed: a reply with no command waiting (an integer)");
}

TEST(ReplyRouter, MoreRepliesThanCommandsOnACommandConnection) {
  Router r;
  r.sent(1);
  r.sent(2);
  auto s = steps(r, ":1\r\n:2\r\n*1\r\n" + bulk("extra"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2], "failed: a reply with no command waiting (an array of 1 element)");
}

TEST(ReplyRouter, ACommandsAnswerMayHaveAnyShape) {
  // Not subscribed: an array that looks like a pub/sub frame is just an answer.
  Router r;
  r.sent(1);
  r.sent(2);
  EXPECT_EQ(steps(r, "*3\r\n" + bulk("message") + bulk("x") + bulk("y") + "*0\r\n"),
            (std::vector<std::string>{"1:2", "2:2"}));
}

TEST(ReplyRouter, TheSubscriptionHearsItsConfirmationAndEveryMessage) {
  Router r;
  subscribe(r);
  EXPECT_EQ(steps(r, pmessage("comet:a", "1") + pmessage("comet:#heartbeat", "")),
            (std::vector<std::string>{"7:2", "7:2"}));
  EXPECT_EQ(r.waiting(), 0u);
}

TEST(ReplyRouter, CommandsBeforeTheSubscribeAreAnsweredFirst) {
  // As the sentinel watch does: AUTH, then SUBSCRIBE +switch-master.
  Router r;
  r.sent(1);
  r.sent_subscribe(2, false, {"+switch-master"});
  EXPECT_EQ(steps(r, "+OK\r\n*3\r\n" + bulk("subscribe") + bulk("+switch-master") + ":1\r\n" +
                         "*3\r\n" + bulk("message") + bulk("+switch-master") + bulk("m a 1 b 2")),
            (std::vector<std::string>{"1:5", "2:2", "2:2"}));
}

TEST(ReplyRouter, EachNameOfASubscribeIsConfirmedInTurn) {
  Router r;
  r.sent_subscribe(4, false, {"a", "b"});
  auto confirm = [](const std::string& name, int n) {
    return "*3\r\n" + bulk("subscribe") + bulk(name) + ":" + std::to_string(n) + "\r\n";
  };
  auto message = [](const std::string& name) {
    return "*3\r\n" + bulk("message") + bulk(name) + bulk("x");
  };
  EXPECT_EQ(steps(r, confirm("a", 1)), std::vector<std::string>{"4:2"});
  EXPECT_FALSE(r.subscribed());
  EXPECT_EQ(steps(r, confirm("b", 2) + message("b") + message("a")),
            (std::vector<std::string>{"4:2", "4:2", "4:2"}));
  EXPECT_TRUE(failed(steps(r, message("c"))));
}

TEST(ReplyRouter, ARefusedSubscribeIsItsEntrysError) {
  Router r;
  r.sent_subscribe(7, true, {"comet:*"});
  EXPECT_EQ(steps(r, "-NOPERM this user has no permissions to access one of the channels\r\n"),
            std::vector<std::string>{"7:6"});
  EXPECT_FALSE(r.subscribed());
  EXPECT_EQ(r.waiting(), 0u);
}

TEST(ReplyRouter, AMessageBeforeACommandsAnswerStillGoesToTheSubscription) {
  // PING while subscribed: Redis answers [pong, ""], possibly after messages.
  Router r;
  subscribe(r);
  r.sent(3);
  EXPECT_EQ(steps(r, pmessage("comet:a", "1") + "*2\r\n" + bulk("pong") + bulk("")),
            (std::vector<std::string>{"7:2", "3:2"}));
}

// Each of these, unsolicited on the subscriber, ended the process in
// hiredis 0.14 (an assert), or is a frame it would have misread; here
// each ends the connection, saying what it was.
TEST(ReplyRouter, EveryMalformedOrUnsolicitedFrameEndsTheSubscribedConnection) {
  struct Case {
    std::string bytes;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"*0\r\n", "an unexpected reply on a subscribed connection (an array of 0 elements)"},
      {"*1\r\n" + bulk("pmessage"),
       "an unexpected reply on a subscribed connection (a malformed pub/sub frame, an array of 1 "
       "element)"},
      {"*1\r\n" + bulk("boom"),
       "an unexpected reply on a subscribed connection (a pub/sub frame of an unknown kind, an "
       "array of 1 element)"},
      {"*2\r\n" + bulk("pmessage") + bulk("comet:*"), "(a malformed pub/sub frame, an array of 2"},
      {"*3\r\n:1\r\n" + bulk("comet:*") + bulk("x"), "(an array of 3 elements)"},
      {"*4\r\n" + bulk("pmessage") + ":1\r\n" + bulk("comet:a") + bulk("x"), "malformed"},
      {"*4\r\n" + bulk("pmessage") + bulk("comet:*") + bulk("comet:a") + "*0\r\n", "malformed"},
      {"*5\r\n" + bulk("pmessage") + bulk("comet:*") + bulk("comet:a") + bulk("x") + bulk("y"),
       "malformed"},
      {"*3\r\n" + bulk("psubscribe") + bulk("comet:*") + bulk("1"), "malformed"},
      {"*3\r\n" + bulk("smessage") + bulk("comet:a") + bulk("x"), "unknown kind"},
      {"*2\r\n" + bulk("pong") + bulk(""), "unknown kind"},
      {"*3\r\n" + bulk("punsubscribe") + bulk("comet:*") + ":0\r\n", "an unsubscribe nobody asked"},
      {"*3\r\n" + bulk("unsubscribe") + "$-1\r\n:0\r\n", "an unsubscribe nobody asked"},
      {"*2\r\n" + bulk("punsubscribe") + bulk("comet:*"), "malformed"},
      {kConfirm, "(an array of 3 elements)"},
      {"*4\r\n" + bulk("pmessage") + bulk("other:*") + bulk("comet:a") + bulk("x"),
       "a pmessage for nothing subscribed"},
      {"*3\r\n" + bulk("message") + bulk("comet:*") + bulk("x"),
       "a message for nothing subscribed"},
      {"+OK\r\n", "(a status of 2 bytes)"},
      {"-ERR oops\r\n", "(an error of 8 bytes)"},
      {":1\r\n", "(an integer)"},
      {"$-1\r\n", "(a nil)"},
      {"*-1\r\n", "(a nil)"},
      {bulk("pmessage"), "(a bulk string of 8 bytes)"},
  };
  for (const auto& c : cases) {
    Router r;
    subscribe(r);
    auto s = steps(r, c.bytes + pmessage("comet:a", "after"));
    ASSERT_EQ(s.size(), 1u) << c.bytes;
    EXPECT_TRUE(failed(s)) << c.bytes;
    EXPECT_NE(s[0].find(c.why), std::string::npos) << c.bytes << " -> " << s[0];
  }
}

TEST(ReplyRouter, AnUnexpectedConfirmationEndsTheConnection) {
  Router r;
  r.sent_subscribe(7, true, {"comet:*"});
  EXPECT_TRUE(failed(steps(r, "*3\r\n" + bulk("psubscribe") + bulk("other:*") + ":1\r\n")));
  Router r2;
  r2.sent_subscribe(7, true, {"comet:*"});
  EXPECT_TRUE(failed(steps(r2, "*3\r\n" + bulk("subscribe") + bulk("comet:*") + ":1\r\n")));
  Router r3;
  r3.sent_subscribe(7, true, {"comet:*"});
  EXPECT_TRUE(failed(steps(r3, pmessage("comet:a", "before the confirmation"))));
  Router r4;
  r4.sent_subscribe(7, true, {"comet:*"});
  EXPECT_TRUE(failed(steps(r4, "+OK\r\n")));
}

TEST(ReplyRouter, Resp3AndOtherTypeBytesAreProtocolErrors) {
  // hiredis 0.14's reader knows RESP2 only: a RESP3 push (`>`), map, set,
  // null, double, boolean... are refused by the reader itself.
  for (const std::string& bytes :
       {">3\r\n" + bulk("message") + bulk("comet:a") + bulk("x"), std::string("%1\r\n+a\r\n+b\r\n"),
        std::string("~1\r\n+a\r\n"), std::string("_\r\n"), std::string(",1.5\r\n"),
        std::string("#t\r\n"), std::string("hello\r\n")}) {
    for (bool subscribed : {false, true}) {
      Router r;
      if (subscribed) {
        subscribe(r);
      } else {
        r.sent(1);
      }
      auto s = steps(r, bytes);
      ASSERT_EQ(s.size(), 1u) << bytes;
      EXPECT_TRUE(s[0].starts_with("failed: Protocol error")) << s[0];
      EXPECT_TRUE(failed(steps(r, "+OK\r\n"))) << "final";
    }
  }
}

TEST(ReplyRouter, ReaderLimitsAreProtocolErrors) {
  std::string deep;
  for (int i = 0; i < 9; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  for (const std::string& bytes : {deep, std::string("*-2\r\n"), std::string("$-2\r\n"),
                                   std::string(":12x\r\n"), std::string("*99999999999\r\n")}) {
    Router r;
    r.sent(1);
    auto s = steps(r, bytes);
    ASSERT_EQ(s.size(), 1u) << bytes;
    EXPECT_TRUE(failed(s)) << bytes;
  }
}

TEST(ReplyRouter, DescribesTypeAndSizeOnly) {
  EXPECT_EQ(describe_reply(*test::resp(bulk("secret"))), "a bulk string of 6 bytes");
  EXPECT_EQ(describe_reply(*test::resp("$0\r\n\r\n")), "a bulk string of 0 bytes");
  EXPECT_EQ(describe_reply(*test::status("x")), "a status of 1 byte");
  EXPECT_EQ(describe_reply(*test::error("ERR x")), "an error of 5 bytes");
  EXPECT_EQ(describe_reply(*test::integer(-3)), "an integer");
  EXPECT_EQ(describe_reply(*test::resp("$-1\r\n")), "a nil");
  EXPECT_EQ(describe_reply(*test::resp("*2\r\n:1\r\n:2\r\n")), "an array of 2 elements");
}

TEST(ReplyRouter, PushFramesAreCheckedByShape) {
  using Kind = PushFrame::Kind;
  auto kind = [](const std::string& bytes) { return parse_push_frame(*test::resp(bytes)).kind; };
  EXPECT_EQ(kind(pmessage("comet:a", "x")), Kind::pmessage);
  EXPECT_EQ(parse_push_frame(*test::resp(pmessage("comet:a", "x"))).name, "comet:*");
  EXPECT_EQ(kind("*3\r\n" + bulk("message") + bulk("c") + bulk("x")), Kind::message);
  EXPECT_EQ(kind(kConfirm), Kind::psubscribe);
  EXPECT_EQ(kind("*3\r\n" + bulk("subscribe") + bulk("c") + ":1\r\n"), Kind::subscribe);
  EXPECT_EQ(kind("*3\r\n" + bulk("unsubscribe") + bulk("c") + ":0\r\n"), Kind::unsubscribe);
  EXPECT_EQ(kind("*3\r\n" + bulk("punsubscribe") + "$-1\r\n:0\r\n"), Kind::punsubscribe);
  EXPECT_EQ(kind("*3\r\n" + bulk("message") + bulk("c") + ":1\r\n"), Kind::malformed);
  EXPECT_EQ(kind("*3\r\n" + bulk("message") + "$-1\r\n" + bulk("x")), Kind::malformed);
  EXPECT_EQ(kind("*3\r\n" + bulk("Message") + bulk("c") + bulk("x")), Kind::unknown);
  EXPECT_EQ(kind("*3\r\n+message\r\n" + bulk("c") + bulk("x")), Kind::none);
  EXPECT_EQ(kind("*0\r\n"), Kind::none);
  EXPECT_EQ(kind("+OK\r\n"), Kind::none);
}

}  // namespace
}  // namespace comet
