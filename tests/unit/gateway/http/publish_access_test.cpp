#include "gateway/http/publish_access.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace comet {
namespace {

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

TEST(PublishAccess, AForeignBrowserPageIsNotAdmittedByAddress) {
  PublishAccess a({}, {"10.0.0.0/8"});
  EXPECT_EQ(a.check("", "10.0.0.5"), PublishAccess::Verdict::allowed);
  EXPECT_EQ(a.check("", "10.0.0.5", true), PublishAccess::Verdict::cross_site);
  EXPECT_EQ(a.check("", "192.0.2.1", true), PublishAccess::Verdict::denied);
  // A secret is not something another site's page can send.
  PublishAccess both({kSecret}, {"10.0.0.0/8"});
  EXPECT_EQ(both.check("Bearer " + kSecret, "10.0.0.5", true), PublishAccess::Verdict::allowed);
  EXPECT_EQ(both.check("Bearer wrong-secret-0123456", "10.0.0.5", true),
            PublishAccess::Verdict::cross_site);
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
