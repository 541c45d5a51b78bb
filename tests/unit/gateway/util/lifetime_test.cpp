#include "gateway/util/lifetime.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

namespace comet {
namespace {

TEST(Lifetime, AWatchDiesWithItsObject) {
  std::optional<Lifetime> life(std::in_place);
  const Lifetime::Watch w = life->watch();
  EXPECT_TRUE(w.alive());
  life.reset();
  EXPECT_FALSE(w.alive());
}

TEST(Lifetime, RenewEndsTheWatchesTakenSoFarOnly) {
  Lifetime life;
  const Lifetime::Watch before = life.watch();
  life.renew();
  const Lifetime::Watch after = life.watch();
  EXPECT_FALSE(before.alive());
  EXPECT_TRUE(after.alive());
}

}  // namespace
}  // namespace comet
