#include "gateway/redis/slot_map_refresh.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

using namespace std::chrono_literals;
using Type = SlotMapRefresh::Decision::Type;

const Clock::time_point t0 = Clock::time_point() + 1000s;

TEST(SlotMapRefresh, TheFirstRequestAsksAtOnce) {
  SlotMapRefresh r;
  EXPECT_EQ(r.request(t0).type, Type::ask);
  EXPECT_TRUE(r.busy());
}

TEST(SlotMapRefresh, RequestsDuringALookupAreServedAfterIt) {
  SlotMapRefresh r;
  r.request(t0);
  EXPECT_EQ(r.request(t0 + 1ms).type, Type::noted);
  EXPECT_EQ(r.request(t0 + 2ms).type, Type::noted);
  EXPECT_TRUE(r.done(t0 + 10ms, true, true));  // once, for both
  EXPECT_FALSE(r.busy());
  // Too soon after the last lookup: wait for the rest of kMinInterval.
  auto d = r.request(t0 + 10ms);
  ASSERT_EQ(d.type, Type::wait);
  EXPECT_EQ(d.at, t0 + SlotMapRefresh::kMinInterval);
  EXPECT_EQ(r.request(t0 + 20ms).type, Type::noted);  // waiting counts as busy
  r.wait_over();
  EXPECT_EQ(r.request(d.at).type, Type::ask);
}

TEST(SlotMapRefresh, WithoutRequestsNothingFollows) {
  SlotMapRefresh r;
  r.request(t0);
  EXPECT_FALSE(r.done(t0 + 5ms, true, true));
}

TEST(SlotMapRefresh, NoAnswerAndNoMapAsksAgainAboutASecondLater) {
  SlotMapRefresh r;
  r.request(t0);
  EXPECT_TRUE(r.done(t0 + 100ms, false, false));
  auto d = r.request(t0 + 100ms);
  ASSERT_EQ(d.type, Type::wait);
  EXPECT_EQ(d.at, t0 + 100ms + SlotMapRefresh::kRetryInterval);
}

TEST(SlotMapRefresh, NoAnswerWithAMapWaitsForADemand) {
  SlotMapRefresh r;
  r.request(t0);
  EXPECT_FALSE(r.done(t0 + 100ms, false, true));
  // A demand then still waits for the retry interval.
  auto d = r.request(t0 + 200ms);
  ASSERT_EQ(d.type, Type::wait);
  EXPECT_EQ(d.at, t0 + 100ms + SlotMapRefresh::kRetryInterval);
}

TEST(SlotMapRefresh, ResetForgetsAPendingDemand) {
  SlotMapRefresh r;
  r.request(t0);
  r.request(t0);
  r.reset();
  EXPECT_FALSE(r.busy());
  EXPECT_EQ(r.request(t0 + 1s).type, Type::ask);
  EXPECT_FALSE(r.done(t0 + 1s, true, true));
}

TEST(SlotMapRefresh, CandidatesLiveMastersThenSeedsThenDownNodes) {
  const RedisHostPort a{"a", 1}, b{"b", 2}, c{"c", 3}, s{"s", 4};
  auto down = [&](const RedisHostPort& n) { return n == b; };
  EXPECT_EQ(SlotMapRefresh::candidates({a, b}, {s, a, c}, down),
            (std::vector<RedisHostPort>{a, s, c, b}));
  EXPECT_EQ(SlotMapRefresh::candidates({}, {s, s}, down), (std::vector<RedisHostPort>{s}));
}

}  // namespace
}  // namespace comet
