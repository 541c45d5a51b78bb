#include "gateway/http/publish_access.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

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

TEST(AddressRange, RejectsWhatIsNotOne) {
  for (const char* text : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
                           "10.0.0.0/8x", "::1/129", "1.2.3", "1.2.3.4/8/8"}) {
    EXPECT_FALSE(AddressRange::parse(text)) << text;
  }
}

const std::string kSecret = "0123456789abcdef-publish";

TEST(PublishAccess, OffUnlessConfigured) {
  PublishAccess off({}, {});
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.check("Bearer " + kSecret, "127.0.0.1"), PublishAccess::Verdict::disabled);
}

TEST(PublishAccess, BearerSecret) {
  PublishAccess a({kSecret, "another-secret-of-16+"}, {});
  EXPECT_TRUE(a.enabled());
  EXPECT_EQ(a.check("Bearer " + kSecret, "10.0.0.1"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(a.check("bearer another-secret-of-16+", ""), PublishAccess::Verdict::allowed);
  EXPECT_EQ(a.check("Bearer " + kSecret + "x", ""), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check("Bearer " + kSecret.substr(1), ""), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check("Basic " + kSecret, ""), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check(kSecret, ""), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check("", "127.0.0.1"), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check("Bearer ", ""), PublishAccess::Verdict::denied);
}

TEST(PublishAccess, AllowList) {
  PublishAccess a({}, {"127.0.0.1", "10.1.0.0/16"});
  EXPECT_EQ(a.check("", "127.0.0.1"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(a.check("", "10.1.2.3"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(a.check("", "10.2.0.1"), PublishAccess::Verdict::denied);
  EXPECT_EQ(a.check("Bearer " + kSecret, "10.2.0.1"), PublishAccess::Verdict::denied);
  // Either admits a request.
  PublishAccess both({kSecret}, {"127.0.0.1"});
  EXPECT_EQ(both.check("", "127.0.0.1"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(both.check("Bearer " + kSecret, "10.2.0.1"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(both.check("", "10.2.0.1"), PublishAccess::Verdict::denied);
}

TEST(PublishAccess, BadConfigurationIsRefused) {
  EXPECT_THROW(PublishAccess({"short"}, {}), std::invalid_argument);
  try {
    PublishAccess({}, {"10.0.0.0/99"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("10.0.0.0/99"), std::string::npos);
  }
}

}  // namespace
}  // namespace comet
