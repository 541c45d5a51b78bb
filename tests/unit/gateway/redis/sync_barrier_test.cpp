#include "gateway/redis/sync_barrier.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comet {
namespace {

// Waiters that record what they are told, by name.
struct Told {
  std::vector<std::string> log;
  SyncBarrier::Waiter waiter(const std::string& name) {
    return [this, name](bool ok) { log.push_back(name + (ok ? ":ok" : ":fail")); };
  }
  void tell(std::vector<SyncBarrier::Waiter> ws, bool ok) {
    for (auto& w : ws) w(ok);
  }
};

TEST(SyncBarrier, OneMarkerForWaitersAskedTogether) {
  SyncBarrier b;
  Told t;
  EXPECT_TRUE(b.add(t.waiter("a")));
  EXPECT_EQ(b.start_marker(), 1u);
  b.expect(1);
  EXPECT_FALSE(b.add(t.waiter("b")));     // waits for the next marker
  EXPECT_TRUE(b.on_marker("0").empty());  // a stale one
  auto done = b.on_marker("1");
  ASSERT_EQ(done.size(), 1u);
  t.tell(std::move(done), true);
  EXPECT_EQ(t.log, (std::vector<std::string>{"a:ok"}));
  EXPECT_TRUE(b.next_waiting());
  EXPECT_EQ(b.start_marker(), 2u);
  b.expect(1);
  EXPECT_TRUE(b.on_marker("1").empty());  // the old marker again proves nothing
  t.tell(b.on_marker("2"), true);
  EXPECT_EQ(t.log, (std::vector<std::string>{"a:ok", "b:ok"}));
  EXPECT_FALSE(b.next_waiting());
  EXPECT_FALSE(b.marker_out());
}

TEST(SyncBarrier, ClusterWaitsForEveryMastersCopy) {
  SyncBarrier b;
  Told t;
  b.add(t.waiter("a"));
  b.add(t.waiter("b"));
  const auto m = b.start_marker();
  b.expect(3);
  EXPECT_TRUE(b.on_marker(std::to_string(m)).empty());
  EXPECT_TRUE(b.on_marker(std::to_string(m)).empty());
  auto done = b.on_marker(std::to_string(m));
  EXPECT_EQ(done.size(), 2u);
}

TEST(SyncBarrier, ACopyThatCannotComeIsNotWaitedFor) {
  SyncBarrier b;
  Told t;
  b.add(t.waiter("a"));
  const auto m = b.start_marker();
  b.expect(2);
  EXPECT_TRUE(b.on_copy_lost(m + 1).empty());  // not this marker's
  EXPECT_TRUE(b.on_marker(std::to_string(m)).empty());
  EXPECT_EQ(b.on_copy_lost(m).size(), 1u);
  // Nothing is out any more: a late loss changes nothing.
  EXPECT_TRUE(b.on_copy_lost(m).empty());
}

TEST(SyncBarrier, TakeAllFailsOutAndNext) {
  SyncBarrier b;
  Told t;
  b.add(t.waiter("a"));
  b.start_marker();
  b.expect(1);
  b.add(t.waiter("b"));
  EXPECT_EQ(b.waiting(), 2u);
  t.tell(b.take_all(), false);
  EXPECT_EQ(t.log, (std::vector<std::string>{"a:fail", "b:fail"}));
  EXPECT_EQ(b.waiting(), 0u);
  EXPECT_TRUE(b.on_marker("1").empty());
  // The next waiter gets a fresh marker at once.
  EXPECT_TRUE(b.add(t.waiter("c")));
  EXPECT_EQ(b.start_marker(), 2u);
}

}  // namespace
}  // namespace comet
