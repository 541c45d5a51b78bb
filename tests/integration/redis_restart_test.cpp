// Redis goes away (kill -9) and comes back on the same port: health follows
// (503, then 200 on its own), a cursor from before the outage is answered
// with the channel in `gaps` (messages may have been lost, and the client
// is told), and messages flow again afterwards.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

int health(Stack& stack) {
  try {
    return stack.get("/comet/health", {}, std::chrono::seconds(5)).status;
  } catch (const std::exception&) {
    return 0;
  }
}

TEST(RedisRestart, HealthGapsAndRecovery) {
  Stack stack;
  ASSERT_EQ(health(stack), 200);

  // A real cursor from before the outage.
  auto poll = stack.start_get("/comet/poll?channel=r&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish("r", "before");
  auto r0 = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r0) << stack.logs();
  json j0 = expect_poll_response(*r0);
  ASSERT_EQ(j0["messages"].size(), 1u);
  const std::string cursor = j0["cursor"];

  stack.redis().kill9();
  ASSERT_TRUE(wait_until([&] { return health(stack) == 503; }, std::chrono::seconds(10)))
      << "health never went 503 after Redis died\n"
      << stack.logs();
  auto down = stack.get("/comet/health");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(stack.metric("comet_redis_up"), 0.0);

  stack.redis().restart();
  ASSERT_TRUE(wait_until([&] { return health(stack) == 200; }, std::chrono::seconds(30)))
      << "health never came back after Redis restarted\n"
      << stack.logs();
  EXPECT_EQ(stack.metric("comet_redis_up"), 1.0);
  EXPECT_GE(stack.metric("comet_redis_reconnects_total").value_or(0), 1.0);

  // The old cursor cannot vouch for the outage: the channel is named in gaps.
  auto r1 = stack.get("/comet/poll?channel=r&timeout=2&since=" + url_encode(cursor));
  json j1 = expect_poll_response(r1);
  ASSERT_TRUE(j1.contains("gaps")) << r1.body;
  EXPECT_NE(std::find(j1["gaps"].begin(), j1["gaps"].end(), "r"), j1["gaps"].end()) << r1.body;
  const std::string cursor1 = j1["cursor"];

  // Following the new cursor, later messages flow, without a gap.
  auto poll2 = stack.start_get("/comet/poll?channel=r&timeout=20&since=" + url_encode(cursor1));
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.publish("r", "after");
  auto r2 = poll2->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r2) << stack.logs();
  json j2 = expect_poll_response(*r2);
  EXPECT_FALSE(j2.contains("gaps")) << r2->body;
  ASSERT_EQ(j2["messages"].size(), 1u) << r2->body;
  EXPECT_EQ(message_bytes(j2["messages"][0]), "after");
}

}  // namespace
}  // namespace comet::test
