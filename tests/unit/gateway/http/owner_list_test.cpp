#include "gateway/http/owner_list.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace comet {
namespace {

struct Item : OwnedHook {
  explicit Item(int& alive) : alive_(alive) { ++alive_; }
  ~Item() { --alive_; }
  int& alive_;
};

TEST(OwnerList, DestroysWhatReportsItselfDoneAndTheRestWithTheOwner) {
  int alive = 0;
  {
    OwnerList<Item> owner;
    EXPECT_TRUE(owner.empty());
    Item& a = owner.adopt(std::make_unique<Item>(alive));
    owner.adopt(std::make_unique<Item>(alive));
    Item& c = owner.adopt(std::make_unique<Item>(alive));
    EXPECT_EQ(alive, 3);
    owner.destroy(c);  // the last
    owner.destroy(a);  // the first
    EXPECT_EQ(alive, 1);
    EXPECT_FALSE(owner.empty());
  }
  EXPECT_EQ(alive, 0);  // the one left went with its owner
}

TEST(OwnerList, ClearDestroysEverything) {
  int alive = 0;
  OwnerList<Item> owner;
  for (int i = 0; i < 5; ++i) owner.adopt(std::make_unique<Item>(alive));
  owner.clear();
  EXPECT_EQ(alive, 0);
  EXPECT_TRUE(owner.empty());
}

}  // namespace
}  // namespace comet
