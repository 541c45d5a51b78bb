#include "gateway/redis/slot_map_lookup.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using Type = SlotMapLookup::Action::Type;
using Args = std::vector<std::string>;
using test::bulk;

const RedisHostPort kA{"10.0.0.1", 7000}, kB{"10.0.0.2", 7001};

// One range served by a master at `host`:`port`.
std::string slots_reply(const std::string& host, int port) {
  return "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n" + bulk(host) + ":" + std::to_string(port) + "\r\n";
}

TEST(SlotMapLookup, TheFirstNodeAnswers) {
  SlotMapLookup l({});
  auto a = l.start({kA, kB});
  ASSERT_EQ(a.type, Type::connect);
  EXPECT_EQ(a.node, kA);
  a = l.on_connected();
  ASSERT_EQ(a.type, Type::send);
  EXPECT_TRUE(a.auth.empty());
  EXPECT_EQ(a.command, (Args{"CLUSTER", "SLOTS"}));
  a = l.on_reply(*test::resp(slots_reply("10.0.0.9", 7009)));
  ASSERT_EQ(a.type, Type::found);
  ASSERT_TRUE(a.slots);
  EXPECT_EQ(a.slots->masters(), (std::vector<RedisHostPort>{{"10.0.0.9", 7009}}));
  EXPECT_EQ(a.slots->slots_served(), kClusterSlots);
}

TEST(SlotMapLookup, AnEmptyAddressIsTheNodeAsked) {
  SlotMapLookup l({});
  l.start({kB});
  l.on_connected();
  auto a = l.on_reply(*test::resp(slots_reply("", 7005)));
  ASSERT_EQ(a.type, Type::found);
  EXPECT_EQ(a.slots->masters(), (std::vector<RedisHostPort>{{"10.0.0.2", 7005}}));
}

TEST(SlotMapLookup, EachFailurePassesToTheNextThenFailsWithAll) {
  SlotMapLookup l({"AUTH", "pw"});
  l.start({kA, kB, {"::1", 7002}});
  EXPECT_EQ(l.on_connected().auth, (Args{"AUTH", "pw"}));
  auto a = l.on_auth_reply(*test::error("WRONGPASS invalid username-password pair"));
  ASSERT_EQ(a.type, Type::connect);
  EXPECT_EQ(a.node, kB);
  // The refused node's own late answer is not taken.
  EXPECT_EQ(l.on_reply(*test::resp(slots_reply("x", 1))).type, Type::wait);
  l.on_connected();
  EXPECT_EQ(l.on_auth_reply(*test::status("OK")).type, Type::wait);
  a = l.on_reply(*test::error("ERR This instance has cluster support disabled"));
  ASSERT_EQ(a.type, Type::connect);
  a = l.on_error("no answer in time");
  ASSERT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why,
            "10.0.0.1:7000: AUTH refused (WRONGPASS invalid username-password pair); "
            "10.0.0.2:7001: CLUSTER SLOTS refused (ERR This instance has cluster support "
            "disabled); [::1]:7002: no answer in time");
  EXPECT_EQ(l.on_error("late").type, Type::wait);
}

TEST(SlotMapLookup, EmptyOrMalformedMapsArePassedOver) {
  SlotMapLookup l({});
  l.start({kA, kB});
  l.on_connected();
  EXPECT_EQ(l.on_reply(*test::resp("*0\r\n")).type, Type::connect);
  l.on_connected();
  auto a = l.on_reply(*test::integer(3));
  ASSERT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why,
            "10.0.0.1:7000: an empty or malformed slot map; 10.0.0.2:7001: an empty or malformed "
            "slot map");
}

TEST(SlotMapLookup, NoCandidatesFailsAtOnceAndANewLookupStartsAfresh) {
  SlotMapLookup l({});
  auto a = l.start({});
  EXPECT_EQ(a.type, Type::failed);
  EXPECT_EQ(a.why, "");
  a = l.start({kB});
  ASSERT_EQ(a.type, Type::connect);
  EXPECT_EQ(a.node, kB);
  EXPECT_EQ(l.on_error("Connection refused").why, "10.0.0.2:7001: Connection refused");
}

}  // namespace
}  // namespace comet
