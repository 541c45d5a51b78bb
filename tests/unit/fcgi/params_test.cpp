#include "fcgi/params.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fcgi/name_value.hpp"
#include "test_bytes.hpp"

namespace fcgi {
namespace {

using test::bytes;

TEST(Params, LookupFindsTheFirstOfARepeatedName) {
  Params p;
  EXPECT_TRUE(p.empty());
  p.add("QUERY_STRING", "channel=a");
  p.add("EMPTY", "");
  p.add("QUERY_STRING", "channel=b");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.get("QUERY_STRING"), "channel=a");
  EXPECT_EQ(p.get("EMPTY"), "");
  EXPECT_EQ(p.get("MISSING"), "");
  EXPECT_EQ(p.get("QUERY"), "");  // a prefix is not a name
  EXPECT_EQ(p[2].first, "QUERY_STRING");
  EXPECT_EQ(p[2].second, "channel=b");
  EXPECT_EQ(p.bytes(), 12u + 9 + 5 + 12 + 9);
}

TEST(Params, ReserveAndClearKeepNothingBehind) {
  Params p;
  p.reserve(1000, 10);
  p.add(std::string(300, 'n'), std::string(600, 'v'));
  EXPECT_EQ(p.get(std::string(300, 'n')), std::string(600, 'v'));
  p.clear();
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.bytes(), 0u);
  EXPECT_EQ(p.get(std::string(300, 'n')), "");
}

// The decoder hands whole pairs over without copying and assembles the ones
// cut by a record or read boundary: both give the same params at every
// split point.
TEST(Params, DecodedTheSameWhereverTheStreamIsCut) {
  std::string in;
  append_name_value(in, "SCRIPT_NAME", "/comet/poll");
  append_name_value(in, "EMPTY", "");
  append_name_value(in, std::string(130, 'N'), std::string(3000, 'V'));
  append_name_value(in, "QUERY_STRING", "channel=a&since=1.0123456789abcdef.2a");
  in += bytes({0x80, 0, 0, 1, 1}) + "xy";
  for (std::size_t a = 0; a <= in.size(); a += (a < 200 ? 1 : 97)) {
    for (std::size_t b = a; b <= in.size(); b += (b < 200 ? 7 : 401)) {
      NameValueDecoder d(1 << 20);
      Params out;
      std::error_code ec;
      d.put(std::string_view(in).substr(0, a), out, ec);
      d.put(std::string_view(in).substr(a, b - a), out, ec);
      d.put(std::string_view(in).substr(b), out, ec);
      d.finish(ec);
      ASSERT_FALSE(ec) << a << "/" << b;
      ASSERT_EQ(out.size(), 5u) << a << "/" << b;
      EXPECT_EQ(out.get("SCRIPT_NAME"), "/comet/poll");
      EXPECT_EQ(out.get("EMPTY"), "");
      EXPECT_EQ(out.get(std::string(130, 'N')), std::string(3000, 'V'));
      EXPECT_EQ(out.get("QUERY_STRING"), "channel=a&since=1.0123456789abcdef.2a");
      EXPECT_EQ(out.get("x"), "y");
    }
  }
}

TEST(Params, WholePairsAreStillCheckedAgainstTheLimits) {
  std::string in;
  append_name_value(in, "AAAA", "BBBB");
  append_name_value(in, "CCCC", "DDDD");
  {
    NameValueDecoder d(15);
    Params out;
    std::error_code ec;
    d.put(in, out, ec);
    EXPECT_EQ(ec, errc::params_too_large);
    EXPECT_EQ(out.size(), 1u);
    ec.clear();
    d.put(in, out, ec);  // stays failed
    EXPECT_EQ(ec, errc::params_too_large);
    EXPECT_EQ(out.size(), 1u);
  }
  {
    NameValueDecoder d(3);
    Params out;
    std::error_code ec;
    d.put(in, out, ec);
    EXPECT_EQ(ec, errc::bad_name_value_length);
    EXPECT_TRUE(out.empty());
  }
}

}  // namespace
}  // namespace fcgi
