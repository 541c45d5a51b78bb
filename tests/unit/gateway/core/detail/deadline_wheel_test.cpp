#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "gateway/core/detail/deadline_wheel.hpp"

namespace comet::detail {
namespace {

using namespace std::chrono_literals;

// Far from the clock's epoch, and not on a tick boundary.
const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(1000) + 37ms);

std::vector<DeadlineNode*> expire(DeadlineWheel& w, Clock::time_point now) {
  std::vector<DeadlineNode*> out;
  w.expire(now, out);
  return out;
}

TEST(DeadlineWheelTest, EmptyHasNoDeadline) {
  DeadlineWheel w(100ms);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.next_due());
  EXPECT_TRUE(expire(w, kT0).empty());
}

TEST(DeadlineWheelTest, DueAtTheFirstTickBoundaryAtOrAfterTheDeadline) {
  DeadlineWheel w(100ms);
  DeadlineNode n;
  w.insert(n, kT0 + 250ms, kT0);  // 1000h + 287ms -> due at 1000h + 300ms
  ASSERT_TRUE(w.next_due());
  EXPECT_EQ(*w.next_due(), Clock::time_point(std::chrono::hours(1000) + 300ms));
  EXPECT_TRUE(expire(w, kT0 + 250ms).empty());  // deadline passed, slot not yet
  EXPECT_TRUE(expire(w, *w.next_due() - 1ns).empty());
  auto out = expire(w, Clock::time_point(std::chrono::hours(1000) + 300ms));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &n);
  EXPECT_FALSE(n.is_linked());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.next_due());
}

TEST(DeadlineWheelTest, EraseIsO1AndUpdatesNextDue) {
  DeadlineWheel w(100ms);
  DeadlineNode a, b;
  w.insert(a, kT0 + 1s, kT0);
  w.insert(b, kT0 + 2s, kT0);
  const auto first = *w.next_due();
  w.erase(a);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_GT(*w.next_due(), first);
  w.erase(a);  // no-op
  EXPECT_EQ(w.size(), 1u);
  auto out = expire(w, kT0 + 3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &b);
}

TEST(DeadlineWheelTest, DeadlinesBeyondOneTurnWaitForTheirTurn) {
  DeadlineWheel w(10ms);  // one turn = 10.24 s
  DeadlineNode near, far;
  w.insert(near, kT0 + 1s, kT0);
  w.insert(far, kT0 + 1s + 10240ms, kT0);  // same slot, next turn
  auto out = expire(w, kT0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &near);
  // The next slot time may be early (a spurious wake) but never late.
  ASSERT_TRUE(w.next_due());
  EXPECT_LE(*w.next_due(), kT0 + 1s + 10240ms + 10ms);
  for (Clock::time_point t = kT0 + 2s; t < kT0 + 11s; t += 500ms) {
    EXPECT_TRUE(expire(w, t).empty());
  }
  out = expire(w, kT0 + 12s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &far);
}

TEST(DeadlineWheelTest, CatchesUpAfterALongGapWithoutExpire) {
  DeadlineWheel w(100ms);
  std::vector<DeadlineNode> nodes(50);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    w.insert(nodes[i], kT0 + std::chrono::seconds(i * 7), kT0);  // up to 343 s: 3+ turns
  }
  auto out = expire(w, kT0 + std::chrono::hours(1));
  EXPECT_EQ(out.size(), nodes.size());
  EXPECT_EQ(w.size(), 0u);
}

TEST(DeadlineWheelTest, RandomDeadlinesReleasedInTimeNeverEarly) {
  DeadlineWheel w(100ms);
  std::mt19937_64 rng(7);
  std::vector<DeadlineNode> nodes(2000);
  std::vector<Clock::time_point> deadline(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    deadline[i] = kT0 + std::chrono::milliseconds(rng() % 300'000);
    w.insert(nodes[i], deadline[i], kT0);
  }
  std::size_t released = 0;
  Clock::time_point now = kT0;
  while (auto next = w.next_due()) {
    ASSERT_GE(*next, now);
    now = *next;
    std::vector<DeadlineNode*> out;
    w.expire(now, out);
    for (DeadlineNode* n : out) {
      const std::size_t i = static_cast<std::size_t>(n - nodes.data());
      EXPECT_GE(now, deadline[i]);
      EXPECT_LT(now, deadline[i] + 100ms);
    }
    released += out.size();
  }
  EXPECT_EQ(released, nodes.size());
}

TEST(DeadlineWheelTest, DrainTakesEverything) {
  DeadlineWheel w(100ms);
  std::vector<DeadlineNode> nodes(100);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    w.insert(nodes[i], kT0 + std::chrono::milliseconds(i * 997), kT0);
  }
  std::vector<DeadlineNode*> out;
  w.drain(out);
  EXPECT_EQ(out.size(), nodes.size());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.next_due());
}

TEST(DeadlineWheelTest, DeadlineInThePastIsDueAtTheNextTick) {
  DeadlineWheel w(100ms);
  DeadlineNode a, b;
  w.insert(a, kT0 + 10s, kT0);
  EXPECT_TRUE(expire(w, kT0 + 5s).empty());
  w.insert(b, kT0 + 1s, kT0 + 5s);  // already passed
  auto out = expire(w, kT0 + 5s + 100ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &b);
}

}  // namespace
}  // namespace comet::detail
