#include "gateway/core/webhook_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point() + seconds(1000);

WebhookQueue::BatchPtr batch(std::string name, std::size_t events, Clock::time_point at = t0) {
  return std::make_shared<const WebhookBatch>(WebhookBatch{events, at, std::move(name)});
}

TEST(WebhookQueue, OneBatchIsOutAtATimeInTheOrderTheyCame) {
  WebhookQueue q;
  EXPECT_EQ(q.next_wakeup(), std::nullopt);
  q.push(batch("a", 2));
  q.push(batch("b", 3));
  EXPECT_EQ(q.next_wakeup(), t0);
  const WebhookBatch* out = q.next_attempt(t0);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->body, "a");
  EXPECT_EQ(q.attempts(), 1);
  // "b" waits until "a" is done.
  EXPECT_EQ(q.next_wakeup(), std::nullopt);
  EXPECT_EQ(q.next_attempt(t0 + seconds(1)), nullptr);
  EXPECT_TRUE(q.in_flight());
  EXPECT_EQ(q.queued(), 5u);
  // Failed, then retried: "a" again, before "b".
  EXPECT_EQ(q.failed(t0 + seconds(1)), 0u);
  const WebhookBatch* again = q.next_attempt(t0 + seconds(2));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->body, "a");
  EXPECT_EQ(q.attempts(), 2);
  q.acknowledged();
  const WebhookBatch* next = q.next_attempt(t0 + seconds(2));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->body, "b");
  EXPECT_EQ(q.attempts(), 1);
  q.acknowledged();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.counters().batches_sent, 2u);
  EXPECT_EQ(q.counters().events_sent, 5u);
  EXPECT_EQ(q.counters().failures, 1u);
}

TEST(WebhookQueue, RetriesBackOffExponentiallyAndGiveUpAfterRetryFor) {
  WebhookQueueOptions o;
  o.retry_for = seconds(5);
  o.backoff_min = milliseconds(250);
  o.backoff_max = milliseconds(2000);
  WebhookQueue q(o);  // no random source: the ceilings themselves
  q.push(batch("a", 2));
  auto now = t0;
  ASSERT_NE(q.next_attempt(now), nullptr);
  // Failures at 0, then 0.25, 0.75, 1.75, 3.75 s: the next would start at
  // 5.75 s, past 5 s after the batch was formed, so it is dropped instead.
  std::vector<long> waits;
  for (;;) {
    const std::size_t dropped = q.failed(now);
    if (dropped != 0) {
      EXPECT_EQ(dropped, 2u);
      break;
    }
    ASSERT_TRUE(q.next_wakeup());
    waits.push_back(std::chrono::duration_cast<milliseconds>(*q.next_wakeup() - now).count());
    EXPECT_EQ(q.next_attempt(*q.next_wakeup() - milliseconds(1)), nullptr);
    now = *q.next_wakeup();
    ASSERT_NE(q.next_attempt(now), nullptr);
  }
  EXPECT_EQ(waits, (std::vector<long>{250, 500, 1000, 2000}));
  EXPECT_EQ(now, t0 + milliseconds(3750));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.counters().failures, 5u);
  EXPECT_EQ(q.counters().dropped_expired, 2u);
  EXPECT_EQ(q.counters().events_sent, 0u);
}

TEST(WebhookQueue, ABatchThatWaitedPastRetryForBehindAFailingOneIsDroppedUntried) {
  WebhookQueueOptions o;
  o.retry_for = seconds(5);
  WebhookQueue q(o);
  q.push(batch("a", 1, t0));
  q.push(batch("b", 4, t0 + seconds(1)));
  q.push(batch("c", 1, t0 + seconds(6)));
  ASSERT_NE(q.next_attempt(t0), nullptr);
  q.failed(t0 + seconds(6));  // "a" is past its time: dropped
  const WebhookBatch* out = q.next_attempt(t0 + seconds(6));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->body, "c");  // "b" (formed at 1 s) too, without an attempt
  EXPECT_EQ(q.counters().dropped_expired, 5u);
  EXPECT_EQ(q.counters().failures, 1u);
}

TEST(WebhookQueue, RetryWaitsAreDrawnWithFullJitterAndStartAgainAfterAnAcknowledgement) {
  std::vector<std::uint64_t> bounds;
  WebhookQueue q({}, [&](std::uint64_t bound) {
    bounds.push_back(bound);
    return bound / 4;
  });
  q.push(batch("a", 1));
  auto now = t0;
  ASSERT_NE(q.next_attempt(now), nullptr);
  q.failed(now);
  EXPECT_EQ(q.next_wakeup(), now + milliseconds(62));  // 250 / 4
  now += milliseconds(62);
  ASSERT_NE(q.next_attempt(now), nullptr);
  q.failed(now);
  EXPECT_EQ(q.next_wakeup(), now + milliseconds(125));  // 500 / 4
  now += milliseconds(125);
  ASSERT_NE(q.next_attempt(now), nullptr);
  q.acknowledged();
  q.push(batch("b", 1, now));
  ASSERT_NE(q.next_attempt(now), nullptr);
  q.failed(now);
  EXPECT_EQ(bounds, (std::vector<std::uint64_t>{250, 500, 250}));
}

TEST(WebhookQueue, PastTheBoundTheOldestWaitingBatchesAreDroppedAndCounted) {
  WebhookQueueOptions o;
  o.max_queued = 10;
  WebhookQueue q(o);
  EXPECT_EQ(q.push(batch("a", 4)), 0u);
  ASSERT_NE(q.next_attempt(t0), nullptr);  // "a" is out
  EXPECT_EQ(q.push(batch("b", 3)), 0u);
  EXPECT_EQ(q.push(batch("c", 3)), 0u);
  EXPECT_EQ(q.queued(), 10u);
  // Full: "b", the oldest waiting, makes room; never "a", which is out.
  EXPECT_EQ(q.push(batch("d", 2)), 3u);
  EXPECT_EQ(q.queued(), 9u);
  EXPECT_EQ(q.counters().dropped_queue_full, 3u);
  q.acknowledged();
  const WebhookBatch* next = q.next_attempt(t0);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->body, "c");
  // A batch larger than the bound alone is still kept: it is the newest.
  q.acknowledged();
  EXPECT_EQ(q.push(batch("huge", 20)), 2u);  // "d" goes
  EXPECT_EQ(q.queued(), 20u);
}

TEST(WebhookQueue, GiveUpDropsEverythingAndCountsIt) {
  WebhookQueue q;
  q.push(batch("a", 1));
  q.push(batch("b", 2));
  ASSERT_NE(q.next_attempt(t0), nullptr);
  EXPECT_EQ(q.give_up(), 3u);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.in_flight());
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(q.counters().dropped_expired, 3u);
}

}  // namespace
}  // namespace comet
