#include "gateway/redis/cluster_slots.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace comet {
namespace {

// A reply as hiredis builds it from RESP bytes.
struct ReplyPtr {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
std::unique_ptr<redisReply, ReplyPtr> parse_resp(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* out = nullptr;
  int rc = redisReaderGetReply(reader, &out);
  redisReaderFree(reader);
  EXPECT_EQ(rc, REDIS_OK);
  EXPECT_NE(out, nullptr) << "incomplete RESP";
  return std::unique_ptr<redisReply, ReplyPtr>(static_cast<redisReply*>(out));
}

// Figures from `redis-cli CLUSTER KEYSLOT` on Redis 7.0.
TEST(ClusterKeySlot, MatchesRedis) {
  EXPECT_EQ(cluster_key_slot("123456789"), 12739);
  EXPECT_EQ(cluster_key_slot("foo"), 12182);
  EXPECT_EQ(cluster_key_slot("somekey"), 11058);
  EXPECT_EQ(cluster_key_slot(""), 0);
}

TEST(ClusterKeySlot, HashTags) {
  EXPECT_EQ(cluster_key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(cluster_key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(cluster_key_slot("{user1000}.following"), cluster_key_slot("{user1000}.followers"));
  // A durable channel's keys share the slot of its name.
  EXPECT_EQ(cluster_key_slot("comet:{news}:stream"), 5161);
  EXPECT_EQ(cluster_key_slot("comet:{news}:stream"), cluster_key_slot("news"));
  // No tag: empty braces, or an unclosed one, hash the whole key.
  EXPECT_EQ(cluster_key_slot("a{}b"), 13694);
  EXPECT_EQ(cluster_key_slot("{}"), 15257);
  EXPECT_EQ(cluster_key_slot("x{y"), 2740);
  // Only the first tag counts.
  EXPECT_EQ(cluster_key_slot("{a}{b}"), cluster_key_slot("a"));
}

TEST(ClusterRedirect, MovedAndAsk) {
  auto moved = parse_cluster_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (RedisHostPort{"127.0.0.1", 6381}));
  auto ask = parse_cluster_redirect("ASK 16383 [::1]:7000");
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->slot, 16383);
  EXPECT_EQ(ask->node, (RedisHostPort{"::1", 7000}));
  // No host: the node that answered, on another port.
  auto same = parse_cluster_redirect("MOVED 1 :7000");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->node, (RedisHostPort{"", 7000}));
  auto bare6 = parse_cluster_redirect("MOVED 1 fe80::1:7000");
  ASSERT_TRUE(bare6);
  EXPECT_EQ(bare6->node, (RedisHostPort{"fe80::1", 7000}));
}

TEST(ClusterRedirect, OtherErrorsAreNotRedirects) {
  for (const char* text :
       {"ERR Function not found", "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down", "MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED x h:1",
        "MOVED 1 h", "MOVED 1 h:0", "MOVED 1 h:70000", "ASK 1 h:1x"}) {
    EXPECT_FALSE(parse_cluster_redirect(text)) << text;
  }
}

// CLUSTER SLOTS of a three-master cluster with one replica for the first
// range; the third master's address is empty (reachable where asked).
const char* const kSlots =
    "*3\r\n"
    "*4\r\n:0\r\n:5460\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nid-a\r\n*0\r\n"
    "*4\r\n$9\r\n127.0.0.1\r\n:7003\r\n$4\r\nid-d\r\n*0\r\n"
    "*3\r\n:5461\r\n:10922\r\n"
    "*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$4\r\nid-b\r\n"
    "*3\r\n:10923\r\n:16383\r\n"
    "*3\r\n$0\r\n\r\n:7002\r\n$4\r\nid-c\r\n";

TEST(ClusterSlots, FromClusterSlotsReply) {
  auto reply = parse_resp(kSlots);
  auto slots = ClusterSlots::from_reply(*reply, "10.1.1.1");
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->masters().size(), 3u);
  EXPECT_EQ(slots->slots_served(), 16384u);
  EXPECT_EQ(*slots->master_of(0), (RedisHostPort{"127.0.0.1", 7000}));
  EXPECT_EQ(*slots->master_of(5460), (RedisHostPort{"127.0.0.1", 7000}));
  EXPECT_EQ(*slots->master_of(5461), (RedisHostPort{"127.0.0.1", 7001}));
  EXPECT_EQ(*slots->master_of(16383), (RedisHostPort{"10.1.1.1", 7002}));
  EXPECT_EQ(slots->master_of(16384), nullptr);
}

TEST(ClusterSlots, NullAddressIsTheNodeAsked) {
  auto reply = parse_resp("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$-1\r\n:7000\r\n$2\r\nid\r\n");
  auto slots = ClusterSlots::from_reply(*reply, "10.0.0.9");
  ASSERT_TRUE(slots);
  EXPECT_EQ(*slots->master_of(42), (RedisHostPort{"10.0.0.9", 7000}));
}

TEST(ClusterSlots, UnservedSlotsAndMoves) {
  auto reply = parse_resp("*1\r\n*3\r\n:100\r\n:199\r\n*2\r\n$1\r\na\r\n:1\r\n");
  auto slots = ClusterSlots::from_reply(*reply, "x");
  ASSERT_TRUE(slots);
  EXPECT_EQ(slots->slots_served(), 100u);
  EXPECT_EQ(slots->master_of(99), nullptr);
  ASSERT_NE(slots->master_of(150), nullptr);
  slots->move(150, RedisHostPort{"b", 2});
  EXPECT_EQ(*slots->master_of(150), (RedisHostPort{"b", 2}));
  EXPECT_EQ(*slots->master_of(151), (RedisHostPort{"a", 1}));
  EXPECT_EQ(slots->masters().size(), 2u);
  slots->move(99, RedisHostPort{"a", 1});  // a known master again: no new entry
  EXPECT_EQ(slots->masters().size(), 2u);
  EXPECT_EQ(slots->slots_served(), 101u);
}

TEST(ClusterSlots, RejectsWhatIsNotASlotMap) {
  for (const char* resp : {
           "-ERR This instance has cluster support disabled\r\n", "*1\r\n:5\r\n",
           "*1\r\n*2\r\n:0\r\n:1\r\n",
           "*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\na\r\n:1\r\n",      // from > to
           "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n",  // past the last slot
           "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:0\r\n",      // port 0
           "*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n$1\r\na\r\n",            // no port
       }) {
    auto reply = parse_resp(resp);
    EXPECT_FALSE(ClusterSlots::from_reply(*reply, "x")) << resp;
  }
  auto empty = parse_resp("*0\r\n");
  auto slots = ClusterSlots::from_reply(*empty, "x");
  ASSERT_TRUE(slots);  // a cluster with no slots assigned yet
  EXPECT_TRUE(slots->masters().empty());
}

}  // namespace
}  // namespace comet
