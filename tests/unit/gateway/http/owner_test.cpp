#include "gateway/http/owner.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace comet {
namespace {

struct Item {
  explicit Item(int& alive) : alive_(alive) { ++alive_; }
  ~Item() { --alive_; }
  int& alive_;
};

TEST(Owner, DestroysWhatReportsItselfDoneAndCountsTheRest) {
  int alive = 0;
  Owner<Item> owner;
  Item& a = owner.adopt(std::make_unique<Item>(alive));
  Item& b = owner.adopt(std::make_unique<Item>(alive));
  EXPECT_EQ(owner.live(), 2u);
  owner.destroy(b);
  EXPECT_EQ(alive, 1);
  EXPECT_EQ(owner.live(), 1u);
  owner.destroy(a);
  EXPECT_EQ(alive, 0);
  EXPECT_EQ(owner.live(), 0u);
}

}  // namespace
}  // namespace comet
