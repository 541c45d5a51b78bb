// A Redis link that drops and comes back again and again (here: Redis
// killing the gateway's subscriber connection, CLIENT KILL TYPE pubsub)
// must not answer every parked poll each time: parked polls stay parked and
// carry the gap in their next answer, and the reconnects back off instead
// of starting from the shortest wait each time.
#include <gtest/gtest.h>

#include "tests/support/poll_swarm.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr int kSubscribers = 100;
constexpr int kFlaps = 6;

TEST(FlappingLink, ParkedPollsAreNotAnsweredOnEveryResubscription) {
  Stack stack;
  PollSwarmOptions so;
  so.port = stack.http_port();
  so.poll_timeout_s = 50;
  for (int i = 0; i < kSubscribers; ++i) so.subscribers.push_back({"flap"});
  PollSwarm swarm(so);
  ASSERT_TRUE(swarm.start(std::chrono::seconds(20))) << stack.logs();
  ASSERT_TRUE(stack.wait_parked(kSubscribers)) << stack.logs();

  RespClient redis(stack.redis().port());
  const auto flaps_started = Clock::now();
  for (int i = 1; i <= kFlaps; ++i) {
    const RespValue killed = redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    ASSERT_EQ(killed.integer, 1) << "flap " << i;
    // Resubscribed: the next flap drops a live link again.
    ASSERT_TRUE(wait_until(
        [&] { return stack.metric("comet_redis_reconnects_total").value_or(0) >= i; },
        std::chrono::seconds(20)))
        << "flap " << i << "\n"
        << stack.logs();
  }
  const auto flapping =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - flaps_started);
  ASSERT_TRUE(wait_until([&] { return stack.metric("comet_redis_up") == 1.0; },
                         std::chrono::seconds(10)));
  // Every poll is still parked, none was answered.
  EXPECT_EQ(stack.parked(), kSubscribers);
  EXPECT_EQ(swarm.delivered(), 0u);

  // The next message answers each poll once, with the message and the gap.
  stack.publish("flap", R"({"n":1})");
  ASSERT_TRUE(wait_until([&] { return swarm.delivered() >= kSubscribers; },
                         std::chrono::seconds(20)))
      << swarm.delivered() << "\n"
      << stack.logs();
  swarm.stop();
  // Each answer that names a gap is one response; answering on every
  // resubscription would give each subscriber one per flap.
  int gaps_total = 0;
  for (const auto& rec : swarm.records()) {
    int gaps = 0, messages = 0;
    for (const auto& e : rec.events) {
      if (e.kind == SwarmEvent::Kind::gap) ++gaps;
      if (e.kind == SwarmEvent::Kind::message) ++messages;
    }
    EXPECT_EQ(messages, 1);
    EXPECT_EQ(gaps, 1);
    gaps_total += gaps;
  }
  std::cout << "[ figures  ] " << kFlaps << " link losses in " << flapping.count() << " ms: "
            << static_cast<double>(gaps_total) / kSubscribers
            << " gap answers per parked poll, " << kSubscribers << " polls\n";
}

}  // namespace
}  // namespace comet::test
