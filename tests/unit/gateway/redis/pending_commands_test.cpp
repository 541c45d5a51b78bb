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

// A cluster's table: entries updated in place (where a command went),
// and picked by what they hold (every command on a node that is lost).
TEST(PendingCommands, FindUpdateAndPickByEntry) {
  PendingCommands<std::string> p;
  auto a = p.add("node1", t0 + 1s);
  auto b = p.add("", t0 + 2s);  // not routed yet
  auto c = p.add("node1", t0 + 3s);
  ASSERT_NE(p.find(b), nullptr);
  *p.find(b) = "node2";
  EXPECT_EQ(p.ids_where([](const std::string& n) { return n == "node1"; }),
            (std::vector<std::uint64_t>{a, c}));
  EXPECT_EQ(p.oldest(), a);
  p.take(a);
  EXPECT_EQ(p.find(a), nullptr);
  EXPECT_EQ(p.oldest(), b);
  EXPECT_EQ(*p.find(b), "node2");
  p.take_all();
  EXPECT_FALSE(p.oldest());
  EXPECT_TRUE(p.ids_where([](const std::string&) { return true; }).empty());
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
