#include "gateway/redis/liveness.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::time_point() + 1000s;

TEST(Liveness, DeadAfterThreeSilentIntervals) {
  Liveness l(200ms);
  EXPECT_EQ(l.limit(), 600ms);
  l.heard(t0);
  EXPECT_EQ(l.deadline(), t0 + 600ms);
  EXPECT_FALSE(l.dead(t0 + 599ms));
  auto silent = l.dead(t0 + 600ms);
  ASSERT_TRUE(silent);
  EXPECT_EQ(*silent, 600ms);
  EXPECT_EQ(*l.dead(t0 + 2s), 2s);
}

TEST(Liveness, AnythingHeardMovesTheDeadline) {
  Liveness l(200ms);
  l.heard(t0);
  l.heard(t0 + 500ms);  // e.g. a part of a large message
  EXPECT_FALSE(l.dead(t0 + 700ms));
  EXPECT_EQ(l.deadline(), t0 + 1100ms);
  EXPECT_TRUE(l.dead(t0 + 1100ms));
}

// The driver's timer fires at the deadline it armed for; heard() since
// then means: not dead, arm again for the new deadline.
TEST(Liveness, ATimerArmedEarlyRearms) {
  Liveness l(5s);
  l.heard(t0);
  const auto armed_for = l.deadline();
  l.heard(t0 + 10s);
  EXPECT_FALSE(l.dead(armed_for));
  EXPECT_EQ(l.deadline(), t0 + 25s);
}

}  // namespace
}  // namespace comet
