#include "gateway/redis/keys.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(Keys, StreamKeyKeepsAChannelInOneSlot) {
  EXPECT_EQ(stream_key("comet:", "chat.42"), "comet:{chat.42}:stream");
}

TEST(Keys, TheSubscriptionPatternMatchesThePrefixLiterally) {
  EXPECT_EQ(subscription_pattern("comet:"), "comet:*");
  EXPECT_EQ(subscription_pattern(""), "*");
  EXPECT_EQ(subscription_pattern("site[1]:"), "site\\[1\\]:*");
  EXPECT_EQ(subscription_pattern("a*b?c\\d"), "a\\*b\\?c\\\\d*");
}

}  // namespace
}  // namespace comet
