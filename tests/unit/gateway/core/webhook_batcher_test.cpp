#include "gateway/core/webhook_batcher.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point() + seconds(1000);

WebhookEvent occupied(int n) {
  return {WebhookEvent::Kind::channel_occupied, "ch." + std::to_string(n), ""};
}

std::vector<std::string> channels(const std::vector<WebhookEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.channel);
  return out;
}

TEST(WebhookBatcher, TheFirstEventOpensAWindowOf100Ms) {
  WebhookBatcher b;
  EXPECT_EQ(b.next_wakeup(), std::nullopt);
  b.push(occupied(1), t0);
  b.push(occupied(2), t0 + milliseconds(60));
  EXPECT_EQ(b.next_wakeup(), t0 + milliseconds(100));
  EXPECT_TRUE(b.take(t0 + milliseconds(99)).empty());
  EXPECT_EQ(channels(b.take(t0 + milliseconds(100))), (std::vector<std::string>{"ch.1", "ch.2"}));
  EXPECT_EQ(b.pending(), 0u);
  EXPECT_EQ(b.next_wakeup(), std::nullopt);
  // The next event opens a window of its own.
  b.push(occupied(3), t0 + seconds(5));
  EXPECT_EQ(b.next_wakeup(), t0 + seconds(5) + milliseconds(100));
}

TEST(WebhookBatcher, AThousandEventsAreDueAtOnceAndNoBatchHoldsMore) {
  WebhookBatcher b;
  std::vector<std::size_t> sizes;
  int next = 0;
  for (int i = 0; i < 2500; ++i) {
    b.push(occupied(i), t0);
    // What the sender does after each push.
    auto batch = b.take(t0);
    if (batch.empty()) continue;
    sizes.push_back(batch.size());
    for (const auto& e : batch) EXPECT_EQ(e.channel, "ch." + std::to_string(next++));
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1000, 1000}));
  // The last 500 wait for their window.
  EXPECT_EQ(b.next_wakeup(), t0 + milliseconds(100));
  const auto last = b.take(t0 + milliseconds(100));
  ASSERT_EQ(last.size(), 500u);
  EXPECT_EQ(last.front().channel, "ch.2000");
}

TEST(WebhookBatcher, PushedPastABatchWithoutTakingItSplitsInOrder) {
  WebhookBatcher b(milliseconds(100), 3);
  for (int i = 0; i < 7; ++i) b.push(occupied(i), t0);
  EXPECT_EQ(channels(b.take(t0)), (std::vector<std::string>{"ch.0", "ch.1", "ch.2"}));
  EXPECT_EQ(channels(b.take(t0)), (std::vector<std::string>{"ch.3", "ch.4", "ch.5"}));
  EXPECT_TRUE(b.take(t0).empty());
  EXPECT_EQ(channels(b.take(t0 + milliseconds(100))), std::vector<std::string>{"ch.6"});
}

TEST(WebhookBatcher, DrainingMakesWhatWaitsDueAtOnce) {
  WebhookBatcher b;
  b.push(occupied(1), t0);
  b.drain();
  EXPECT_EQ(b.next_wakeup(), t0);
  EXPECT_EQ(b.take(t0).size(), 1u);
}

}  // namespace
}  // namespace comet
