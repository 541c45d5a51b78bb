#include "gateway/redis/link_handshake.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using Type = LinkHandshake::Action::Type;
using Args = std::vector<std::string>;

LinkHandshake::Options options(Args auth, bool master, int db) {
  LinkHandshake::Options o;
  o.auth = std::move(auth);
  o.require_master = master;
  o.db = db;
  return o;
}

std::string role_reply(const std::string& role) {
  return "*3\r\n" + test::bulk(role) + ":0\r\n*0\r\n";
}

TEST(LinkHandshake, NothingToDoIsReadyAtOnce) {
  LinkHandshake hs(options({}, false, 0));
  auto a = hs.start();
  EXPECT_EQ(a.type, Type::ready);
  EXPECT_TRUE(hs.done());
}

TEST(LinkHandshake, AuthRoleSelectInThatOrder) {
  LinkHandshake hs(options({"AUTH", "u", "p"}, true, 3));
  auto a = hs.start();
  ASSERT_EQ(a.type, Type::send);
  EXPECT_EQ(a.command, (Args{"AUTH", "u", "p"}));
  a = hs.on_reply(*test::status("OK"));
  ASSERT_EQ(a.type, Type::send);
  EXPECT_EQ(a.command, Args{"ROLE"});
  a = hs.on_reply(*test::resp(role_reply("master")));
  ASSERT_EQ(a.type, Type::send);
  EXPECT_EQ(a.command, (Args{"SELECT", "3"}));
  EXPECT_FALSE(hs.done());
  a = hs.on_reply(*test::status("OK"));
  EXPECT_EQ(a.type, Type::ready);
  EXPECT_TRUE(hs.done());
}

TEST(LinkHandshake, StepsThatDoNotApplyAreSkipped) {
  LinkHandshake select_only(options({}, false, 2));
  auto a = select_only.start();
  EXPECT_EQ(a.command, (Args{"SELECT", "2"}));
  LinkHandshake role_only(options({}, true, 0));
  a = role_only.start();
  EXPECT_EQ(a.command, Args{"ROLE"});
  EXPECT_EQ(role_only.on_reply(*test::resp(role_reply("master"))).type, Type::ready);
  LinkHandshake auth_only(options({"AUTH", "p"}, false, 0));
  EXPECT_EQ(auth_only.start().command, (Args{"AUTH", "p"}));
  EXPECT_EQ(auth_only.on_reply(*test::status("OK")).type, Type::ready);
}

TEST(LinkHandshake, IdentifyAsksInfoServerLastAndKeepsTheRunId) {
  auto o = options({}, false, 2);
  o.identify = true;
  LinkHandshake hs(o);
  auto a = hs.start();
  EXPECT_EQ(a.command, (Args{"SELECT", "2"}));
  a = hs.on_reply(*test::status("OK"));
  ASSERT_EQ(a.type, Type::send);
  EXPECT_EQ(a.command, (Args{"INFO", "server"}));
  const std::string id = "0123456789abcdef0123456789abcdef01234567";
  a = hs.on_reply(*test::resp(
      test::bulk("# Server\r\nredis_version:7.0.15\r\nrun_id:" + id + "\r\ntcp_port:6379\r\n")));
  EXPECT_EQ(a.type, Type::ready);
  EXPECT_EQ(hs.server_id(), id);
}

TEST(LinkHandshake, InfoRefusedOrWithoutRunIdLeavesTheServerUnnamed) {
  LinkHandshake::Options o;
  o.identify = true;
  for (const std::string& reply :
       {std::string("-ERR unknown command 'INFO'\r\n"),
        test::bulk("# Server\r\nredis_version:7.0.15\r\n"), test::bulk("run_id:NOT-HEX\r\n")}) {
    LinkHandshake hs(o);
    auto a = hs.start();
    ASSERT_EQ(a.command, (Args{"INFO", "server"}));
    EXPECT_EQ(hs.on_reply(*test::resp(reply)).type, Type::ready) << reply;
    EXPECT_EQ(hs.server_id(), "") << reply;
  }
}

TEST(LinkHandshake, AuthRefusedFailsWithRedisText) {
  LinkHandshake hs(options({"AUTH", "wrong"}, true, 1));
  hs.start();
  auto a = hs.on_reply(*test::error("WRONGPASS invalid username-password pair"));
  EXPECT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "AUTH refused (WRONGPASS invalid username-password pair)");
  EXPECT_TRUE(hs.done());
}

TEST(LinkHandshake, AReplicaIsNotAMaster) {
  LinkHandshake hs(options({}, true, 0));
  hs.start();
  auto a = hs.on_reply(*test::resp("*5\r\n" + test::bulk("slave") + test::bulk("127.0.0.1") +
                                   ":6379\r\n" + test::bulk("connected") + ":14\r\n"));
  EXPECT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "the server named by the sentinels is not a master (ROLE: slave)");
}

TEST(LinkHandshake, RoleRefusedOrMalformed) {
  LinkHandshake refused(options({}, true, 0));
  refused.start();
  auto a = refused.on_reply(*test::error("NOPERM this user has no permissions to run 'role'"));
  EXPECT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "ROLE refused (NOPERM this user has no permissions to run 'role')");
  LinkHandshake odd(options({}, true, 0));
  odd.start();
  a = odd.on_reply(*test::integer(1));
  EXPECT_EQ(a.why, "the server named by the sentinels is not a master (ROLE: ?)");
  LinkHandshake empty(options({}, true, 0));
  empty.start();
  EXPECT_EQ(empty.on_reply(*test::resp("*0\r\n")).why,
            "the server named by the sentinels is not a master (ROLE: ?)");
}

TEST(LinkHandshake, SelectRefused) {
  LinkHandshake hs(options({}, false, 99));
  hs.start();
  auto a = hs.on_reply(*test::error("ERR DB index is out of range"));
  EXPECT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "SELECT refused (ERR DB index is out of range)");
}

TEST(LinkHandshake, ASendThatFailsNamesTheCommand) {
  for (auto [opts, name] :
       {std::pair{options({"AUTH", "p"}, true, 1), "AUTH"}, std::pair{options({}, true, 1), "ROLE"},
        std::pair{options({}, false, 1), "SELECT"}}) {
    LinkHandshake hs(opts);
    hs.start();
    auto a = hs.on_send_failed();
    EXPECT_EQ(a.type, Type::failed);
    EXPECT_EQ(a.why, std::string("cannot send ") + name);
  }
}

TEST(LinkHandshake, AReplyAfterTheEndIsAFailureNotAStep) {
  LinkHandshake hs(options({}, false, 0));
  EXPECT_EQ(hs.start().type, Type::ready);
  EXPECT_EQ(hs.on_reply(*test::status("OK")).type, Type::failed);
}

}  // namespace
}  // namespace comet
