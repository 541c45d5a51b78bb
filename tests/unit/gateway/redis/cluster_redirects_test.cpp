#include "gateway/redis/cluster_redirects.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

using Type = ClusterRedirects::Action::Type;

TEST(ClusterRedirects, MovedIsFollowedForGood) {
  ClusterRedirects r;
  auto a = r.on_error("MOVED 3999 127.0.0.1:6381", "127.0.0.1:6380");
  ASSERT_EQ(a.type, Type::follow);
  EXPECT_FALSE(a.redirect.ask);
  EXPECT_EQ(a.redirect.slot, 3999);
  EXPECT_EQ(a.redirect.node, (RedisHostPort{"127.0.0.1", 6381}));
  EXPECT_EQ(r.redirects(), 1);
}

TEST(ClusterRedirects, AskIsForThisCommandOnly) {
  ClusterRedirects r;
  auto a = r.on_error("ASK 12 10.0.0.3:7002", "10.0.0.1:7000");
  ASSERT_EQ(a.type, Type::follow);
  EXPECT_TRUE(a.redirect.ask);
  EXPECT_EQ(a.redirect.node, (RedisHostPort{"10.0.0.3", 7002}));
}

TEST(ClusterRedirects, AnEmptyHostIsTheNodeThatAnswered) {
  ClusterRedirects r;
  EXPECT_EQ(r.on_error("MOVED 1 :7001", "10.0.0.1:7000").redirect.node,
            (RedisHostPort{"10.0.0.1", 7001}));
  EXPECT_EQ(r.on_error("MOVED 1 :7001", "[::1]:7000").redirect.node, (RedisHostPort{"::1", 7001}));
}

TEST(ClusterRedirects, TooManyRedirectsGiveUp) {
  ClusterRedirects r;
  for (int i = 0; i < ClusterRedirects::kMaxRedirects; ++i) {
    EXPECT_EQ(r.on_error(i % 2 ? "ASK 5 a:1" : "MOVED 5 b:2", "c:3").type, Type::follow) << i;
  }
  auto a = r.on_error("MOVED 5 b:2", "a:1");
  EXPECT_EQ(a.type, Type::give_up);
  EXPECT_EQ(a.why, "redirected too often (last: MOVED 5 b:2)");
}

TEST(ClusterRedirects, AMissingFunctionIsReloadedOnce) {
  ClusterRedirects r;
  EXPECT_EQ(r.on_error("ERR Function not found", "a:1").type, Type::reload);
  // Still missing after loading it: that is the answer.
  EXPECT_EQ(r.on_error("ERR Function not found", "a:1").type, Type::deliver);
}

TEST(ClusterRedirects, OtherErrorsAreTheAnswer) {
  ClusterRedirects r;
  EXPECT_EQ(r.on_error("WRONGTYPE Operation against a key", "a:1").type, Type::deliver);
  EXPECT_EQ(r.on_error("CLUSTERDOWN The cluster is down", "a:1").type, Type::deliver);
  EXPECT_EQ(r.on_error("MOVED nonsense", "a:1").type, Type::deliver);
  EXPECT_EQ(r.redirects(), 0);
}

}  // namespace
}  // namespace comet
