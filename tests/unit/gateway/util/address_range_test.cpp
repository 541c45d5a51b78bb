#include "gateway/util/address_range.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(AddressRange, SingleAddressesAndBlocks) {
  auto one = AddressRange::parse("127.0.0.1");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains("127.0.0.1"));
  EXPECT_FALSE(one->contains("127.0.0.2"));
  EXPECT_TRUE(one->contains("::ffff:127.0.0.1"));  // IPv4-mapped
  EXPECT_FALSE(one->contains("::1"));

  auto ten = AddressRange::parse("10.0.0.0/8");
  ASSERT_TRUE(ten);
  EXPECT_TRUE(ten->contains("10.255.1.2"));
  EXPECT_FALSE(ten->contains("11.0.0.1"));

  auto odd = AddressRange::parse("192.168.1.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains("192.168.1.200"));
  EXPECT_FALSE(odd->contains("192.168.1.127"));

  auto all = AddressRange::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("8.8.8.8"));
  EXPECT_FALSE(all->contains("::1"));

  auto v6 = AddressRange::parse("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("fd12:3456::1"));
  EXPECT_FALSE(v6->contains("fe80::1"));
  auto loop6 = AddressRange::parse("::1");
  ASSERT_TRUE(loop6);
  EXPECT_TRUE(loop6->contains("::1"));
  EXPECT_FALSE(loop6->contains("not an address"));
  EXPECT_FALSE(loop6->contains(""));
}

// FastCGI params may hold NUL bytes: what follows one must not be ignored.
TEST(AddressRange, ANulByteMakesNoAddress) {
  using namespace std::string_literals;
  EXPECT_FALSE(AddressRange::parse("10.0.0.1\0junk"s));
  EXPECT_FALSE(AddressRange::parse("::\0X:dd/128"s));
  EXPECT_FALSE(AddressRange::parse("10.0.0.0\0/8"s));
  auto ten = AddressRange::parse("10.0.0.0/8");
  ASSERT_TRUE(ten);
  EXPECT_FALSE(ten->contains("10.1.2.3\0, 192.0.2.1"s));
  EXPECT_FALSE(ten->contains("10.1.2.3\0"s));
}

TEST(AddressRange, RejectsWhatIsNotOne) {
  for (const char* text : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
                           "10.0.0.0/8x", "::1/129", "1.2.3", "1.2.3.4/8/8",
                           // "-0" is 0 to from_chars: it would admit everyone.
                           "10.0.0.0/-0", "::1/-0", "10.0.0.0/+8", "10.0.0.0/ 8"}) {
    EXPECT_FALSE(AddressRange::parse(text)) << text;
  }
}

}  // namespace
}  // namespace comet
