#include "gateway/core/channel_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace comet {
namespace {

TEST(ChannelName, AllowedCharactersAndLength) {
  EXPECT_TRUE(is_valid_channel_name("chat.42"));
  EXPECT_TRUE(is_valid_channel_name("user@site:room_1-b"));
  EXPECT_TRUE(is_valid_channel_name(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_channel_name(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_channel_name(""));
  EXPECT_FALSE(is_valid_channel_name("a b"));
  EXPECT_FALSE(is_valid_channel_name("a/b"));
  EXPECT_FALSE(is_valid_channel_name("a*"));
  EXPECT_FALSE(is_valid_channel_name("#heartbeat"));
  EXPECT_FALSE(is_valid_channel_name("caf\xc3\xa9"));
}

// Every byte value, alone and inside a name, against docs/API.md's set.
TEST(ChannelName, EveryByteValue) {
  const std::string allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool expected = allowed.find(c) != std::string::npos;
    EXPECT_EQ(is_valid_channel_name(std::string(1, c)), expected) << "byte " << b;
    EXPECT_EQ(is_valid_channel_name(std::string("room") + c + "1"), expected) << "byte " << b;
  }
}

}  // namespace
}  // namespace comet
