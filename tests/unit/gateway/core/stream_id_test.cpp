#include <gtest/gtest.h>

#include <limits>

#include "gateway/core/stream_id.hpp"

namespace comet {
namespace {

TEST(StreamIdTest, ParsesRedisText) {
  EXPECT_EQ(StreamId::parse("1700000000000-3"), (StreamId{1700000000000, 3}));
  EXPECT_EQ(StreamId::parse("0-0"), (StreamId{0, 0}));
  EXPECT_EQ(StreamId::parse("18446744073709551615-18446744073709551615"),
            (StreamId{std::numeric_limits<std::uint64_t>::max(),
                      std::numeric_limits<std::uint64_t>::max()}));
  for (const char* bad : {"", "1", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-1", "1-1 ", "+1-1",
                          "18446744073709551616-0"}) {
    EXPECT_FALSE(StreamId::parse(bad)) << bad;
  }
}

TEST(StreamIdTest, TextRoundTripsAndOrders) {
  const StreamId a{5, 9}, b{6, 0};
  EXPECT_EQ(a.text(), "5-9");
  EXPECT_EQ(StreamId::parse(a.text()), a);
  EXPECT_LT(a, b);
  EXPECT_LT((StreamId{5, 8}), a);
}

TEST(StreamIdTest, PredIsTheLargestIdBelow) {
  EXPECT_EQ((StreamId{5, 9}).pred(), (StreamId{5, 8}));
  EXPECT_EQ((StreamId{5, 0}).pred(), (StreamId{4, std::numeric_limits<std::uint64_t>::max()}));
  EXPECT_EQ((StreamId{0, 0}).pred(), (StreamId{0, 0}));
}

}  // namespace
}  // namespace comet
