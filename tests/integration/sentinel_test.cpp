// Redis Sentinel: the gateway on a redis-sentinel:// URL finds the master
// through the sentinel and follows a failover (SENTINEL FAILOVER, the old
// master staying alive and being demoted) by itself. The failover under
// load, with counting subscribers, is Faults.SentinelMasterKill9.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

std::string poll_path(const std::string& channel, const std::string& cursor, int timeout) {
  std::string p = "/comet/poll?channel=" + channel + "&timeout=" + std::to_string(timeout);
  if (!cursor.empty()) p += "&since=" + url_encode(cursor);
  return p;
}

TEST(Sentinel, FollowsAManualFailoverToTheNewMaster) {
  StackOptions o;
  o.sentinel = true;
  o.redis_args = RedisServer::persistent();
  Stack stack(o);
  const int old_master = stack.redis().port();
  // Subscribed on the master the sentinel named, not on a replica.
  ASSERT_TRUE(wait_until([&] { return pubsub_numpat(old_master) == 1; }, std::chrono::seconds(10)))
      << stack.logs();
  EXPECT_EQ(pubsub_numpat(stack.replica(0).port()), 0);
  EXPECT_EQ(pubsub_numpat(stack.replica(1).port()), 0);

  // A cursor with the durable channel's position.
  auto poll = stack.start_get(poll_path("d", "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  const std::string id1 = php_publish_durable(stack.dir().path(), old_master, "d", "one");
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  const std::string cursor = j["cursor"].get<std::string>();
  // Replicated before the failover (a publisher would WAIT 1 for this).
  {
    RespClient c(old_master);
    auto w = c.command({"WAIT", "2", "5000"});
    ASSERT_EQ(w.integer, 2);
  }

  const auto t0 = Clock::now();
  stack.sentinel().failover();
  ASSERT_TRUE(
      wait_until([&] { return stack.sentinel().master_port().value_or(old_master) != old_master; },
                 std::chrono::seconds(20)))
      << stack.logs();
  const int new_master = stack.sentinel().master_port().value_or(0);
  ASSERT_TRUE(new_master == stack.replica(0).port() || new_master == stack.replica(1).port());
  // The gateway moves to the new master by itself, and leaves the old one
  // (which the sentinel demotes to a replica of the new one).
  ASSERT_TRUE(wait_until([&] { return pubsub_numpat(new_master) == 1; }, std::chrono::seconds(20)))
      << stack.logs();
  const auto moved_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_TRUE(wait_until([&] { return pubsub_numpat(old_master) == 0; }, std::chrono::seconds(20)))
      << stack.logs();
  EXPECT_TRUE(stack.gateway(0).wait_healthy(std::chrono::seconds(20))) << stack.logs();
  std::cout << "SENTINEL | subscribed to the new master " << moved_ms
            << " ms after SENTINEL FAILOVER" << std::endl;

  // Durable: the cursor from the old master goes on on the new one, the
  // message from before the failover is not repeated.
  auto next = stack.start_get(poll_path("d", cursor, 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  const std::string id2 = php_publish_durable(stack.dir().path(), new_master, "d", "two");
  r = next->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(j["messages"][0]["id"], id2);
  EXPECT_EQ(message_bytes(j["messages"][0]), "two");

  // Plain: published on the new master, heard.
  auto plain = stack.start_get(poll_path("p", "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  php_publish(stack.dir().path(), new_master, "p", "three");
  r = plain->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "three");
  EXPECT_GE(stack.metric("comet_redis_reconnects_total").value_or(0), 1);
}

// Sentinels with requirepass: the URL's ?sentinel_password= is what the
// gateway authenticates with; a wrong one is named in the log.
TEST(Sentinel, WithAPassword) {
  StackOptions o;
  o.sentinel = true;
  o.sentinel_password = "sentinel-secret-42";
  Stack stack(o);  // waits until the gateway is healthy: it found the master
  EXPECT_TRUE(wait_until([&] { return pubsub_numpat(stack.redis().port()) == 1; },
                         std::chrono::seconds(10)))
      << stack.logs();
  auto poll = stack.start_get(poll_path("s", "", 20));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  php_publish(stack.dir().path(), stack.redis().port(), "s", "found through a locked sentinel");
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;

  GatewayOptions wrong;
  wrong.dir = stack.dir().subdir("wrong");
  wrong.redis_url = "redis-sentinel://127.0.0.1:" + std::to_string(stack.sentinel().port()) + "/" +
                    Sentinel::kMaster + "?sentinel_password=not-it";
  Gateway g(wrong);
  EXPECT_TRUE(wait_until([&] { return g.log().find("AUTH refused") != std::string::npos; },
                         std::chrono::seconds(10)))
      << g.log();
  EXPECT_EQ(g.log().find("not-it"), std::string::npos) << "the password is never logged";
  EXPECT_FALSE(g.wait_healthy(std::chrono::milliseconds(300)));
}

}  // namespace
}  // namespace comet::test
