#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "gateway/cursor.hpp"

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
