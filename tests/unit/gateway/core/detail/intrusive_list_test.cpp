#include <gtest/gtest.h>

#include <vector>

#include "gateway/core/detail/intrusive_list.hpp"

namespace comet::detail {
namespace {

std::vector<ListNode*> contents(ListHead& h) {
  std::vector<ListNode*> out;
  for (ListNode* n = h.begin(); n != h.end(); n = n->next) out.push_back(n);
  return out;
}

TEST(IntrusiveListTest, PushAndUnlinkAnywhere) {
  ListHead h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.front(), nullptr);
  ListNode a, b, c;
  EXPECT_FALSE(a.linked());
  h.push_back(a);
  h.push_back(b);
  h.push_back(c);
  EXPECT_EQ(contents(h), (std::vector<ListNode*>{&a, &b, &c}));
  b.unlink();  // middle, without the list
  EXPECT_FALSE(b.linked());
  EXPECT_EQ(contents(h), (std::vector<ListNode*>{&a, &c}));
  a.unlink();  // front
  EXPECT_EQ(h.front(), &c);
  c.unlink();  // last
  EXPECT_TRUE(h.empty());
  c.unlink();  // not linked: no-op
  EXPECT_TRUE(h.empty());
}

TEST(IntrusiveListTest, UnlinkWhileIteratingWithSavedNext) {
  ListHead h;
  std::vector<ListNode> nodes(10);
  for (auto& n : nodes) h.push_back(n);
  int i = 0;
  for (ListNode* n = h.begin(); n != h.end(); ++i) {
    ListNode* next = n->next;
    if (i % 2 == 0) n->unlink();
    n = next;
  }
  auto left = contents(h);
  ASSERT_EQ(left.size(), 5u);
  for (std::size_t k = 0; k < left.size(); ++k) EXPECT_EQ(left[k], &nodes[2 * k + 1]);
}

TEST(IntrusiveListTest, RelinkIntoAnotherList) {
  ListHead h1, h2;
  ListNode a;
  h1.push_back(a);
  a.unlink();
  h2.push_back(a);
  EXPECT_TRUE(h1.empty());
  EXPECT_EQ(h2.front(), &a);
}

}  // namespace
}  // namespace comet::detail
