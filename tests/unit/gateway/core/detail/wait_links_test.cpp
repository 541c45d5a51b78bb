#include "gateway/core/detail/wait_links.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "gateway/core/waiter.hpp"

namespace comet::detail {
namespace {

std::vector<ChannelNode*> contents(WaitQueue& q) {
  std::vector<ChannelNode*> out;
  for (ChannelNode& n : q) out.push_back(&n);
  return out;
}

TEST(WaitLinksTest, UnlinkFromAnywhereWithoutTheQueue) {
  WaitQueue q;
  EXPECT_TRUE(q.empty());
  ChannelNode a, b, c;
  EXPECT_FALSE(a.is_linked());
  q.push_back(a);
  q.push_back(b);
  q.push_back(c);
  EXPECT_EQ(contents(q), (std::vector<ChannelNode*>{&a, &b, &c}));
  b.unlink();  // middle
  EXPECT_FALSE(b.is_linked());
  EXPECT_EQ(contents(q), (std::vector<ChannelNode*>{&a, &c}));
  a.unlink();  // front
  EXPECT_EQ(&q.front(), &c);
  c.unlink();  // last
  EXPECT_TRUE(q.empty());
}

TEST(WaitLinksTest, UnlinkOfAnUnlinkedNodeIsANoOp) {
  WaitQueue q;
  ChannelNode a, b;
  a.unlink();  // never linked
  q.push_back(a);
  q.push_back(b);
  b.unlink();
  b.unlink();  // again
  EXPECT_FALSE(b.is_linked());
  EXPECT_EQ(contents(q), (std::vector<ChannelNode*>{&a}));
}

TEST(WaitLinksTest, UnlinkTheCurrentNodeWhileIterating) {
  WaitQueue q;
  std::vector<ChannelNode> nodes(10);
  for (ChannelNode& n : nodes) q.push_back(n);
  int i = 0;
  for (auto it = q.begin(); it != q.end(); ++i) {
    ChannelNode& n = *it++;  // as Hub::flush steps past a waiter it releases
    if (i % 2 == 0) n.unlink();
  }
  auto left = contents(q);
  ASSERT_EQ(left.size(), 5u);
  for (std::size_t k = 0; k < left.size(); ++k) EXPECT_EQ(left[k], &nodes[2 * k + 1]);
}

TEST(WaitLinksTest, RelinkIntoAnotherList) {
  WaitQueue q1, q2;
  ChannelNode a;
  q1.push_back(a);
  a.unlink();
  q2.push_back(a);
  EXPECT_TRUE(q1.empty());
  EXPECT_EQ(&q2.front(), &a);
}

TEST(WaitLinksTest, DestroyedNodeLeavesItsList) {
  DeadlineSlot s;
  DeadlineNode a;
  {
    DeadlineNode b;
    s.push_back(a);
    s.push_back(b);
  }
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(&s.front(), &a);
  EXPECT_EQ(&s.back(), &a);
}

TEST(WaitLinksTest, DestroyedListLeavesItsNodesUnlinked) {
  ChannelNode a;
  {
    WaitQueue q;
    q.push_back(a);
  }
  EXPECT_FALSE(a.is_linked());
  a.unlink();  // must not touch the destroyed head
}

class IdleWaiter : public Waiter {
 protected:
  void on_release(const BatchPtr&) override {}
};

TEST(WaitLinksTest, SizesOnLp64) {
  if (sizeof(void*) != 8) GTEST_SKIP();
  // The per-waiter cost that hub.cpp asserts: two pointers per hook, no
  // waiter pointer in the deadline node.
  EXPECT_EQ(sizeof(ListHook), 16u);
  EXPECT_EQ(sizeof(WaitQueue), 16u);
  EXPECT_EQ(sizeof(DeadlineNode), 24u);
  EXPECT_EQ(sizeof(ChannelNode), 32u);
  EXPECT_EQ(sizeof(WaiterLinks), 56u);
}

TEST(WaitLinksTest, WaiterOfADeadlineNodeIsTheFirstChannelNodesWaiter) {
  IdleWaiter w;
  WaiterLinks links;
  links.first.waiter = &w;
  DeadlineNode& d = links;  // as the wheel holds it
  EXPECT_EQ(&waiter_of(d), &w);
}

}  // namespace
}  // namespace comet::detail
