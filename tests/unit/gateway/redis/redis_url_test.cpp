#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "gateway/redis/redis_url.hpp"

namespace comet {
namespace {

// The message of the std::invalid_argument thrown for `text`, or "" when it parses.
std::string error_of(std::string_view text) {
  try {
    parse_redis_url(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(RedisUrl, HostOnlyTakesDefaults) {
  RedisUrl u = parse_redis_url("redis://127.0.0.1");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_TRUE(u.unix_path.empty());
  EXPECT_TRUE(u.username.empty());
  EXPECT_TRUE(u.password.empty());
}

TEST(RedisUrl, HostPortDb) {
  RedisUrl u = parse_redis_url("redis://redis.internal:6380/3");
  EXPECT_EQ(u.host, "redis.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 3);
  EXPECT_EQ(parse_redis_url("redis://h:1/").db, 0);
  EXPECT_EQ(parse_redis_url("redis://h/15").port, 6379);
}

TEST(RedisUrl, PasswordOnlyAndUserPassword) {
  RedisUrl a = parse_redis_url("redis://:s3cret@h:7000/2");
  EXPECT_EQ(a.username, "");
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_EQ(a.host, "h");
  EXPECT_EQ(a.port, 7000);
  EXPECT_EQ(a.db, 2);

  RedisUrl b = parse_redis_url("redis://gateway:pw@h");
  EXPECT_EQ(b.username, "gateway");
  EXPECT_EQ(b.password, "pw");
}

TEST(RedisUrl, PasswordIsPercentDecoded) {
  RedisUrl u = parse_redis_url("redis://:p%40ss%3Aw%2Frd%25%20x@h");
  EXPECT_EQ(u.password, "p@ss:w/rd% x");
  // A raw '@' in the password still works: the last '@' ends the credentials.
  EXPECT_EQ(parse_redis_url("redis://:a@b@h").password, "a@b");
  EXPECT_EQ(parse_redis_url("redis://:a@b@h").host, "h");
  // A password may hold ':' after the first one.
  EXPECT_EQ(parse_redis_url("redis://u:a:b@h").password, "a:b");
}

TEST(RedisUrl, Ipv6InBrackets) {
  RedisUrl u = parse_redis_url("redis://[::1]:6390/1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6390);
  EXPECT_EQ(u.db, 1);
  EXPECT_EQ(parse_redis_url("redis://:pw@[fe80::1:2]").host, "fe80::1:2");
  EXPECT_EQ(parse_redis_url("redis://[2001:db8::7]").port, 6379);
}

TEST(RedisUrl, UnixShortForm) {
  RedisUrl u = parse_redis_url("unix:/run/redis/redis.sock");
  EXPECT_EQ(u.unix_path, "/run/redis/redis.sock");
  EXPECT_TRUE(u.host.empty());
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(parse_redis_url("unix:/tmp/r.sock?db=4").db, 4);
}

TEST(RedisUrl, UnixLongFormWithCredentialsAndDb) {
  RedisUrl u = parse_redis_url("unix://app:p%40w@/var/run/redis.sock?db=9");
  EXPECT_EQ(u.unix_path, "/var/run/redis.sock");
  EXPECT_EQ(u.username, "app");
  EXPECT_EQ(u.password, "p@w");
  EXPECT_EQ(u.db, 9);

  RedisUrl plain = parse_redis_url("unix:///var/run/redis.sock");
  EXPECT_EQ(plain.unix_path, "/var/run/redis.sock");
  EXPECT_TRUE(plain.password.empty());
  EXPECT_EQ(parse_redis_url("unix://:pw@/s.sock").password, "pw");
}

TEST(RedisUrl, RedactedNeverShowsThePassword) {
  RedisUrl u = parse_redis_url("redis://user:hunter2@h:6380/5");
  EXPECT_EQ(u.redacted(), "redis://user:***@h:6380/5");
  EXPECT_EQ(u.redacted().find("hunter2"), std::string::npos);

  EXPECT_EQ(parse_redis_url("redis://:hunter2@[::1]").redacted(), "redis://:***@[::1]:6379");
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1").redacted(), "redis://127.0.0.1:6379");
  EXPECT_EQ(parse_redis_url("unix:/s.sock").redacted(), "unix:/s.sock");
  EXPECT_EQ(parse_redis_url("unix://:hunter2@/s.sock?db=2").redacted(), "unix://:***@/s.sock?db=2");
  // A decoded username is re-encoded: a log line stays one line.
  EXPECT_EQ(parse_redis_url("redis://a%0Ab:x@h").redacted(), "redis://a%0Ab:***@h:6379");
}

TEST(RedisUrl, RejectsWithMessagesThatNameTheProblem) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("http://h").find("expected redis://"), std::string::npos);
  EXPECT_NE(error_of("rediss://h").find("TLS"), std::string::npos);
  EXPECT_NE(error_of("redis://").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis://:6379").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis://h:").find("empty port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h:63x").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis://h/x").find("database"), std::string::npos);
  EXPECT_NE(error_of("redis://h/-1").find("database"), std::string::npos);
  EXPECT_NE(error_of("redis://h?db=1").find("query"), std::string::npos);
  EXPECT_NE(error_of("redis://::1").find("brackets"), std::string::npos);
  EXPECT_NE(error_of("redis://[::1").find("']'"), std::string::npos);
  EXPECT_NE(error_of("redis://[::1]x").find("':port'"), std::string::npos);
  EXPECT_NE(error_of("redis://[zz]").find("IPv6"), std::string::npos);
  EXPECT_NE(error_of("redis://pw@h").find("':'"), std::string::npos);
  EXPECT_NE(error_of("redis://:p%4@h").find("%-escape"), std::string::npos);
  EXPECT_NE(error_of("redis://:p%zz@h").find("%-escape"), std::string::npos);
  EXPECT_NE(error_of("redis://h st").find("space"), std::string::npos);
  EXPECT_NE(error_of("redis://h_$x").find("bad character"), std::string::npos);
  EXPECT_NE(error_of("unix:relative.sock").find("absolute"), std::string::npos);
  EXPECT_NE(error_of("unix:").find("absolute"), std::string::npos);
  EXPECT_NE(error_of("unix://host/s.sock").find("no host"), std::string::npos);
  EXPECT_NE(error_of("unix://s.sock").find("absolute"), std::string::npos);
  EXPECT_NE(error_of("unix:/s.sock?timeout=3").find("timeout"), std::string::npos);
  EXPECT_NE(error_of("unix:/s.sock?db=x").find("db"), std::string::npos);
  EXPECT_NE(error_of("unix:/" + std::string(200, 'a')).find("longer"), std::string::npos);
}

TEST(RedisUrl, ErrorsNeverEchoThePassword) {
  for (const char* text : {"redis://:hunter2@h:99999", "redis://:hunter2@h/x",
                           "redis://:hunter2%@h", "unix://:hunter2@/s?x=1"}) {
    std::string e = error_of(text);
    EXPECT_FALSE(e.empty()) << text;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  }
}

TEST(RedisUrl, SentinelListMasterAndDb) {
  auto u = parse_redis_url("redis-sentinel://user:pw%40x@s1:26380,10.0.0.2,[::1]:5000/mymaster/3");
  ASSERT_TRUE(u.sentinel());
  ASSERT_EQ(u.sentinels.size(), 3u);
  EXPECT_EQ(u.sentinels[0], (RedisHostPort{"s1", 26380}));
  EXPECT_EQ(u.sentinels[1], (RedisHostPort{"10.0.0.2", 26379}));
  EXPECT_EQ(u.sentinels[2], (RedisHostPort{"::1", 5000}));
  EXPECT_EQ(u.master_name, "mymaster");
  EXPECT_EQ(u.username, "user");
  EXPECT_EQ(u.password, "pw@x");
  EXPECT_EQ(u.db, 3);
  EXPECT_TRUE(u.host.empty());
  EXPECT_TRUE(u.unix_path.empty());

  auto v = parse_redis_url("redis-sentinel://127.0.0.1:26379/m");
  EXPECT_EQ(v.sentinels.size(), 1u);
  EXPECT_EQ(v.master_name, "m");
  EXPECT_EQ(v.db, 0);
  EXPECT_FALSE(parse_redis_url("redis://h").sentinel());
}

TEST(RedisUrl, SentinelCredentials) {
  auto u = parse_redis_url(
      "redis-sentinel://:master-pw@s1,s2/m?sentinel_password=s%26pw&sentinel_username=watch");
  EXPECT_EQ(u.password, "master-pw");
  EXPECT_EQ(u.sentinel_password, "s&pw");
  EXPECT_EQ(u.sentinel_username, "watch");
  EXPECT_EQ(u.master_name, "m");
  EXPECT_EQ(u.sentinels.size(), 2u);
  const std::string shown = u.redacted();
  EXPECT_EQ(
      shown,
      "redis-sentinel://:***@s1:26379,s2:26379/m?sentinel_password=***&sentinel_username=watch");
  EXPECT_EQ(parse_redis_url("redis-sentinel://s/m/2?sentinel_password=x").db, 2);
}

TEST(RedisUrl, SentinelRedacted) {
  auto u = parse_redis_url("redis-sentinel://:hunter2@a:1,[::1]:2/m/4");
  EXPECT_EQ(u.redacted(), "redis-sentinel://:***@a:1,[::1]:2/m/4");
  EXPECT_EQ(parse_redis_url("redis-sentinel://a/m").redacted(), "redis-sentinel://a:26379/m");
}

TEST(RedisUrl, SentinelRejects) {
  EXPECT_NE(error_of("redis-sentinel://a:1").find("master"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a:1/").find("empty master"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a:1,/m").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a:x/m").find("port"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m/x").find("database"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m$").find("bad character"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m?x=1").find("unknown query parameter"),
            std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m?sentinel_password").find("unknown query parameter"),
            std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m#f").find("fragment"), std::string::npos);
  EXPECT_NE(error_of("redis-sentinel://a/m?sentinel_password=%zz").find("sentinel_password"),
            std::string::npos);
  std::string e = error_of("redis-sentinel://:hunter2@a:0/m");
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(e.find("hunter2"), std::string::npos);
}

TEST(RedisUrl, ClusterNodes) {
  auto u = parse_redis_url("redis-cluster://:pw%2Fx@10.0.0.1:7000,node-b,[::1]:7002");
  ASSERT_TRUE(u.cluster());
  EXPECT_FALSE(u.sentinel());
  ASSERT_EQ(u.cluster_nodes.size(), 3u);
  EXPECT_EQ(u.cluster_nodes[0], (RedisHostPort{"10.0.0.1", 7000}));
  EXPECT_EQ(u.cluster_nodes[1], (RedisHostPort{"node-b", 6379}));
  EXPECT_EQ(u.cluster_nodes[2], (RedisHostPort{"::1", 7002}));
  EXPECT_EQ(u.password, "pw/x");
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.redacted(), "redis-cluster://:***@10.0.0.1:7000,node-b:6379,[::1]:7002");
  EXPECT_EQ(parse_redis_url("redis-cluster://a/").cluster_nodes.size(), 1u);
  EXPECT_EQ(parse_redis_url("redis-cluster://a:1/0").cluster_nodes.size(), 1u);
  EXPECT_FALSE(parse_redis_url("redis://h").cluster());
}

TEST(RedisUrl, ClusterRejects) {
  EXPECT_NE(error_of("redis-cluster://a:1/3").find("database 0"), std::string::npos);
  EXPECT_NE(error_of("redis-cluster://a:1,").find("missing host"), std::string::npos);
  EXPECT_NE(error_of("redis-cluster://a:1?x=1").find("query"), std::string::npos);
  EXPECT_NE(error_of("redis-cluster://").find("missing host"), std::string::npos);
  std::string e = error_of("redis-cluster://:hunter2@a:99999");
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(e.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace comet
