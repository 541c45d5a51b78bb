#include "gateway/core/backoff.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace comet {
namespace {

using std::chrono::milliseconds;

std::vector<long> waits(Backoff& b, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<long>(b.next().count()));
  return out;
}

TEST(Backoff, DoublesFromMinUpToMax) {
  Backoff b(milliseconds(100), milliseconds(1000));
  EXPECT_EQ(waits(b, 6), (std::vector<long>{100, 200, 400, 800, 1000, 1000}));
  EXPECT_EQ(b.attempts(), 6);
}

TEST(Backoff, ResetStartsAgainAtMin) {
  Backoff b(milliseconds(250), milliseconds(4000));
  waits(b, 3);
  EXPECT_EQ(b.ceiling(), milliseconds(2000));
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(waits(b, 2), (std::vector<long>{250, 500}));
}

TEST(Backoff, ALinkThatDropsSoonGoesOnDoublingOneThatHeldStartsAgain) {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point t0{};
  Backoff b(milliseconds(100), milliseconds(5000));
  // Twenty drops, each 400 ms after the link came back: the waits grow to
  // the cap instead of starting at 100 ms each time.
  std::vector<long> seen;
  auto t = t0;
  for (int i = 0; i < 20; ++i) {
    b.up(t);
    t += 400ms;
    b.lost(t, 10s);
    seen.push_back(static_cast<long>(b.next().count()));
    t += milliseconds(seen.back());
  }
  EXPECT_EQ(std::vector<long>(seen.begin(), seen.begin() + 7),
            (std::vector<long>{100, 200, 400, 800, 1600, 3200, 5000}));
  EXPECT_EQ(seen.back(), 5000);
  // Up for the whole stable time: the next loss starts from the shortest.
  b.up(t);
  b.lost(t + 10s, 10s);
  EXPECT_EQ(b.next(), milliseconds(100));
  // A loss without an up() in between (a failed attempt) doubles.
  EXPECT_EQ(b.next(), milliseconds(200));
  b.lost(t + 20s, 10s);
  EXPECT_EQ(b.next(), milliseconds(400));
}

TEST(Backoff, FullJitterDrawsBelowTheCeiling) {
  std::vector<std::uint64_t> bounds;
  Backoff b(milliseconds(20), milliseconds(200), Backoff::Jitter::full, [&](std::uint64_t bound) {
    bounds.push_back(bound);
    return bound / 2;
  });
  EXPECT_EQ(waits(b, 5), (std::vector<long>{10, 20, 40, 80, 100}));
  EXPECT_EQ(bounds, (std::vector<std::uint64_t>{20, 40, 80, 160, 200}));
}

TEST(Backoff, JitterCanBeZeroAndNeverExceedsTheCeiling) {
  Backoff zero(milliseconds(100), milliseconds(500), Backoff::Jitter::full,
               [](std::uint64_t) { return 0; });
  EXPECT_EQ(waits(zero, 3), (std::vector<long>{0, 0, 0}));
  // A random source that overshoots is clamped, not trusted.
  Backoff over(milliseconds(100), milliseconds(500), Backoff::Jitter::full,
               [](std::uint64_t bound) { return bound * 10; });
  EXPECT_EQ(waits(over, 4), (std::vector<long>{100, 200, 400, 500}));
}

TEST(Backoff, DegenerateBoundsAreRepaired) {
  Backoff zero_min(milliseconds(0), milliseconds(3));
  EXPECT_EQ(waits(zero_min, 4), (std::vector<long>{1, 2, 3, 3}));
  Backoff max_below_min(milliseconds(50), milliseconds(10));
  EXPECT_EQ(waits(max_below_min, 2), (std::vector<long>{50, 50}));
}

TEST(Backoff, ManyAttemptsDoNotOverflow) {
  Backoff b(milliseconds(1), milliseconds(5000));
  for (int i = 0; i < 1000; ++i) b.next();
  EXPECT_EQ(b.next(), milliseconds(5000));
}

}  // namespace
}  // namespace comet
