#include "fcgi/name_value.hpp"

#include <gtest/gtest.h>

#include "fcgi/error.hpp"
#include "test_bytes.hpp"

namespace fcgi {
namespace {

using test::bytes;
using Pairs = NameValueDecoder::Pairs;

Pairs decode_all(std::string_view in, std::size_t max, std::error_code& ec) {
  NameValueDecoder d(max);
  Pairs out;
  d.put(in, out, ec);
  if (!ec) d.finish(ec);
  return out;
}

TEST(NameValue, EncodeOneByteLengths) {
  std::string out;
  append_name_value(out, "A", "B");
  append_name_value(out, "", "");
  append_name_value(out, std::string(127, 'n'), "v");
  EXPECT_EQ(out,
            bytes({1, 1}) + "AB" + bytes({0, 0}) + bytes({127, 1}) + std::string(127, 'n') + "v");
}

TEST(NameValue, EncodeFourByteLengths) {
  std::string out;
  append_name_value(out, std::string(128, 'n'), std::string(300, 'v'));
  EXPECT_EQ(out.substr(0, 8), bytes({0x80, 0, 0, 128, 0x80, 0, 1, 0x2c}));
  EXPECT_EQ(out.size(), 8u + 128 + 300);
}

TEST(NameValue, DecodesBothFormsAtEverySplit) {
  std::string in;
  append_name_value(in, "SCRIPT_NAME", "/comet/poll");
  append_name_value(in, "EMPTY", "");
  append_name_value(in, std::string(200, 'N'), std::string(70000, 'V'));
  append_name_value(in, "QUERY_STRING", "channel=a");
  // A 1-byte length written in the 4-byte form is still valid.
  in += bytes({0x80, 0, 0, 1, 1}) + "xy";
  const Pairs expected = {{"SCRIPT_NAME", "/comet/poll"},
                          {"EMPTY", ""},
                          {std::string(200, 'N'), std::string(70000, 'V')},
                          {"QUERY_STRING", "channel=a"},
                          {"x", "y"}};
  std::error_code ec;
  EXPECT_EQ(decode_all(in, 1 << 20, ec), expected);
  EXPECT_FALSE(ec);
  for (std::size_t split = 0; split <= in.size(); split += (split < 300 ? 1 : 997)) {
    NameValueDecoder d(1 << 20);
    Pairs out;
    std::error_code e;
    d.put(std::string_view(in).substr(0, split), out, e);
    d.put(std::string_view(in).substr(split), out, e);
    d.finish(e);
    ASSERT_FALSE(e) << split;
    ASSERT_EQ(out, expected) << split;
  }
}

TEST(NameValue, ByteByByte) {
  std::string in;
  append_name_value(in, std::string(130, 'a'), "b");
  NameValueDecoder d(1000);
  Pairs out;
  std::error_code ec;
  for (char c : in) d.put(std::string_view(&c, 1), out, ec);
  d.finish(ec);
  EXPECT_FALSE(ec);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(d.total(), 131u);
}

TEST(NameValue, TruncatedStreamIsAnError) {
  for (const std::string& in : {bytes({5}), bytes({5, 1}) + "abc", bytes({0x80, 0, 0}),
                                bytes({1, 0x80, 0}), bytes({1, 3}) + "a" + "bc"}) {
    std::error_code ec;
    decode_all(in, 1000, ec);
    EXPECT_EQ(ec, errc::truncated_params) << in.size();
  }
}

TEST(NameValue, OversizedFourByteLengthIsRejectedBeforeAllocating) {
  std::error_code ec;
  decode_all(bytes({0xff, 0xff, 0xff, 0xff, 0}), 64 * 1024, ec);
  EXPECT_EQ(ec, errc::bad_name_value_length);
  ec.clear();
  decode_all(bytes({1, 0xff, 0xff, 0xff, 0xff}) + "a", 64 * 1024, ec);
  EXPECT_EQ(ec, errc::bad_name_value_length);
}

TEST(NameValue, SumOverLimitIsRejected) {
  std::string in;
  append_name_value(in, "AAAA", "BBBB");
  append_name_value(in, "CCCC", "DDDD");
  std::error_code ec;
  EXPECT_EQ(decode_all(in, 16, ec).size(), 2u);
  EXPECT_FALSE(ec);
  Pairs out = decode_all(in, 15, ec);
  EXPECT_EQ(ec, errc::params_too_large);
  EXPECT_EQ(out.size(), 1u);
}

TEST(NameValue, EmptyPairsAreBoundedByTheirCost) {
  // 2 bytes on the wire each, nothing of a name or value: without a cost
  // per pair, 64 KB of budget would admit any number of them.
  const std::string in(200000, '\0');
  std::error_code ec;
  const Pairs unbounded = decode_all(in, 64 * 1024, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(unbounded.size(), 100000u);
  NameValueDecoder d(64 * 1024, 12);
  Pairs out;
  d.put(in, out, ec);
  EXPECT_EQ(ec, errc::params_too_large);
  EXPECT_EQ(out.size(), 64u * 1024 / 12);
  EXPECT_EQ(d.total(), out.size() * 12);
}

TEST(NameValue, BuffersGrowWithTheBytesThatArrive) {
  // Lengths of a 60000-byte value, but none of its bytes: nothing like
  // 60000 bytes may be allocated yet.
  NameValueDecoder d(64 * 1024);
  Pairs out;
  std::error_code ec;
  d.put(bytes({4, 0x80, 0, 0xea, 0x60}) + "NAME", out, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(d.total(), 60004u);
  EXPECT_LE(d.buffered_capacity(), 2 * NameValueDecoder::kMaxReserve + 64);
  d.put(std::string(30000, 'v'), out, ec);
  EXPECT_GE(d.buffered_capacity(), 30000u);
  d.put(std::string(30000, 'v'), out, ec);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, "NAME");
  EXPECT_EQ(out[0].second, std::string(60000, 'v'));
}

TEST(NameValue, StaysFailed) {
  NameValueDecoder d(4);
  Pairs out;
  std::error_code ec;
  d.put(bytes({3, 3}), out, ec);
  EXPECT_EQ(ec, errc::params_too_large);
  ec.clear();
  d.put(bytes({0, 0}), out, ec);
  EXPECT_EQ(ec, errc::params_too_large);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace fcgi
