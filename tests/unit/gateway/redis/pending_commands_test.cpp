#include "gateway/redis/pending_commands.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace comet {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::time_point() + 1000s;

TEST(PendingCommands, IdsAreDistinctAndTakenOnce) {
  PendingCommands<std::string> p;
  auto a = p.add("a", t0 + 3s);
  auto b = p.add("b", t0 + 3s);
  EXPECT_NE(a, b);
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p.take(b), "b");
  EXPECT_FALSE(p.take(b));  // a second reply for it, or one after a loss
  EXPECT_EQ(p.take(a), "a");
  EXPECT_TRUE(p.empty());
  // Ids are not reused: a late reply for an old id finds nothing.
  auto c = p.add("c", t0);
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_FALSE(p.take(a));
}

TEST(PendingCommands, TheOldestDecidesTheDeadline) {
  PendingCommands<int> p;
  EXPECT_FALSE(p.next_deadline());
  EXPECT_FALSE(p.timed_out(t0 + 100s));
  auto first = p.add(1, t0 + 3s);
  p.add(2, t0 + 4s);
  EXPECT_EQ(p.next_deadline(), t0 + 3s);
  EXPECT_FALSE(p.timed_out(t0 + 2999ms));
  EXPECT_TRUE(p.timed_out(t0 + 3s));
  // Answered: the next one is the oldest now.
  p.take(first);
  EXPECT_EQ(p.next_deadline(), t0 + 4s);
  EXPECT_FALSE(p.timed_out(t0 + 3500ms));
  EXPECT_TRUE(p.timed_out(t0 + 4s));
}

TEST(PendingCommands, LossFailsAllOldestFirstAndLeavesItEmpty) {
  PendingCommands<std::string> p;
  auto a = p.add("a", t0);
  p.add("b", t0);
  p.add("c", t0);
  p.take(a);
  EXPECT_EQ(p.take_all(), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(p.next_deadline());
}

TEST(PendingCommands, MoveOnlyEntries) {
  PendingCommands<std::unique_ptr<int>> p;
  auto id = p.add(std::make_unique<int>(5), t0);
  auto got = p.take(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(**got, 5);
}

}  // namespace
}  // namespace comet
