#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "gateway/core/cursor.hpp"

namespace comet {
namespace {

TEST(CursorTest, FormatsVersionEpochAndSeq) {
  EXPECT_EQ(format_cursor({0x0123456789abcdefULL, 0x2a}), "1.0123456789abcdef.2a");
  EXPECT_EQ(format_cursor({0, 0}), "1.0000000000000000.0");
  EXPECT_EQ(format_cursor({1, 0xffffffffffffffffULL}), "1.0000000000000001.ffffffffffffffff");
}

TEST(CursorTest, RoundTrips) {
  const std::uint64_t values[] = {
      0, 1, 9, 10, 15, 16, 255, 0x1000, 0xdeadbeefULL, std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t e : values) {
    for (std::uint64_t s : values) {
      const Cursor c{e, s};
      auto parsed = parse_cursor(format_cursor(c));
      ASSERT_TRUE(parsed) << format_cursor(c);
      EXPECT_EQ(*parsed, c);
    }
  }
}

TEST(CursorTest, RejectsWhatNoGatewayIssues) {
  const char* bad[] = {
      "",
      "1",
      "1.",
      "1..",
      "2.0000000000000001.1",                  // unknown version
      "01.0000000000000001.1",                 // version spelled differently
      "1.000000000000001.1",                   // epoch too short
      "1.00000000000000001.1",                 // epoch too long
      "1.0000000000000001.",                   // empty seq
      "1.0000000000000001",                    // no seq
      "1..1",                                  // empty epoch
      "1.000000000000000A.1",                  // uppercase
      "1.0000000000000001.A",                  // uppercase
      "1.0000000000000001.01",                 // leading zero
      "1.0000000000000001.00",                 // leading zero
      "1.0000000000000001.10000000000000000",  // 17 digits: overflow
      "1.0000000000000001.1.",                 // trailing part
      "1.0000000000000001.1 ",                 // trailing space
      " 1.0000000000000001.1",                 // leading space
      "1.0000000000000001.+1",                 // sign
      "1.0000000000000001.-1",                 // sign
      "1.0000000000000001.0x1",                // prefix
      "1.000000000000000g.1",                  // not hex
      "1.0000000000000001.g",                  // not hex
      "earliest",
  };
  for (const char* text : bad) EXPECT_FALSE(parse_cursor(text)) << '"' << text << '"';
}

TEST(CursorTest, RejectsEmbeddedNul) {
  std::string s = "1.0000000000000001.1";
  s[5] = '\0';
  EXPECT_FALSE(parse_cursor(s));
}

TEST(CursorTest, AcceptsLargestSeq) {
  auto c = parse_cursor("1.ffffffffffffffff.ffffffffffffffff");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->epoch, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(c->seq, std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace comet

namespace comet {
namespace {

Cursor with_positions() {
  return Cursor{0xabcULL,
                0x2a,
                {Position{0x000000000001ULL, StreamId{0x18c0f4a2b31ULL, 0}},
                 Position{0xffffffffffffULL, StreamId{1, 0x10}}}};
}

TEST(CursorV2Test, FormatsPositionsSortedByHash) {
  EXPECT_EQ(format_cursor(with_positions()),
            "2.0000000000000abc.2a.000000000001-18c0f4a2b31-0.ffffffffffff-1-10");
}

TEST(CursorV2Test, RoundTrips) {
  auto c = with_positions();
  EXPECT_EQ(parse_cursor(format_cursor(c)), c);
  Cursor one{1, 2, {Position{channel_hash("chat.42"), StreamId{1718000000000, 7}}}};
  EXPECT_EQ(parse_cursor(format_cursor(one)), one);
}

TEST(CursorV2Test, RejectsWhatNoGatewayIssues) {
  const char* bad[] = {
      "2.0000000000000abc.2a",                                    // v2 without positions
      "1.0000000000000abc.2a.000000000001-1-0",                   // v1 with positions
      "2.0000000000000abc.2a.",                                   // empty position
      "2.0000000000000abc.2a.00000000001-1-0",                    // short hash
      "2.0000000000000abc.2a.0000000000001-1-0",                  // long hash
      "2.0000000000000abc.2a.000000000001-01-0",                  // leading zero
      "2.0000000000000abc.2a.000000000001-1-00",                  // leading zero
      "2.0000000000000abc.2a.000000000001-A-0",                   // uppercase
      "2.0000000000000abc.2a.000000000001-1",                     // no seq
      "2.0000000000000abc.2a.000000000001-1-0-",                  // trailing dash
      "2.0000000000000abc.2a.000000000002-1-0.000000000001-1-0",  // unsorted
      "2.0000000000000abc.2a.000000000001-1-0.000000000001-2-0",  // repeated hash
      "2.0000000000000abc.2a.000000000001-1-0.",                  // trailing dot
      "4.0000000000000abc.2a.000000000001-1-0",                   // unknown version
      "3.0000000000000abc",                                       // v3 without a count
      "3.000000000000abc.2a",                                     // short mark
      "3.0000000000000abc.02a",                                   // leading zero
      "3.0000000000000ABC.2a",                                    // uppercase
      "3.0000000000000abc.2a.",                                   // empty position
  };
  for (const char* text : bad) EXPECT_FALSE(parse_cursor(text)) << '"' << text << '"';
}

TEST(CursorV3Test, StreamPositionsRoundTripWithAndWithoutPositions) {
  Cursor c;
  c.stream = StreamPos{0x0123456789abcdefULL, 0x2a};
  EXPECT_EQ(format_cursor(c), "3.0123456789abcdef.2a");
  EXPECT_EQ(parse_cursor("3.0123456789abcdef.2a"), c);
  // The epoch and seq are not part of it.
  Cursor also = c;
  also.epoch = 7;
  also.seq = 9;
  EXPECT_EQ(format_cursor(also), "3.0123456789abcdef.2a");
  c.positions = {Position{channel_hash("chat.42"), StreamId{1718000000000, 7}}};
  EXPECT_EQ(parse_cursor(format_cursor(c)), c);
  Cursor zero;
  zero.stream = StreamPos{1, 0};
  EXPECT_EQ(format_cursor(zero), "3.0000000000000001.0");
  EXPECT_EQ(parse_cursor("3.0000000000000001.0"), zero);
}

TEST(CursorV2Test, ChannelHashIs48Bits) {
  EXPECT_LT(channel_hash("a"), std::uint64_t{1} << 48);
  EXPECT_NE(channel_hash("a"), channel_hash("b"));
  EXPECT_EQ(channel_hash("chat.42"), channel_hash("chat.42"));
}

}  // namespace
}  // namespace comet
