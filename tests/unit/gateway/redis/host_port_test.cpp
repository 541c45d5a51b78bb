#include "gateway/redis/host_port.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(HostPort, NamesAndIpv4AsIs) {
  EXPECT_EQ(host_port("127.0.0.1", 6379), "127.0.0.1:6379");
  EXPECT_EQ(host_port("redis.local", 26379), "redis.local:26379");
  EXPECT_EQ(host_port(RedisHostPort{"10.0.0.2", 7000}), "10.0.0.2:7000");
}

TEST(HostPort, Ipv6InBrackets) {
  EXPECT_EQ(host_port("::1", 7000), "[::1]:7000");
  EXPECT_EQ(host_port("fe80::1%eth0", 6379), "[fe80::1%eth0]:6379");
}

TEST(HostPort, HostOfRoundTrips) {
  for (const char* host : {"127.0.0.1", "::1", "redis.local", ""}) {
    EXPECT_EQ(host_of(host_port(host, 6380)), host) << host;
  }
}

}  // namespace
}  // namespace comet
