#include "gateway/query.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(Query, RepeatedKeysKeepOrderAndDecode) {
  auto q = Query::parse("channel=a&channel=b%2Cc&x=1+2&empty=&flag");
  ASSERT_TRUE(q);
  auto all = q->all("channel");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "a");
  EXPECT_EQ(all[1], "b,c");
  EXPECT_EQ(q->get("x").value(), "1 2");
  EXPECT_EQ(q->get("empty").value(), "");
  EXPECT_EQ(q->get("flag").value(), "");
  EXPECT_FALSE(q->get("missing"));
}

TEST(Query, MalformedEscapesAreRejected) {
  EXPECT_FALSE(Query::parse("a=%"));
  EXPECT_FALSE(Query::parse("a=%4"));
  EXPECT_FALSE(Query::parse("a=%zz"));
  EXPECT_FALSE(Query::parse("%g1=b"));
  EXPECT_TRUE(Query::parse("a=%41%62"));
  EXPECT_EQ(Query::parse("a=%41%62")->get("a").value(), "Ab");
}

TEST(Query, EmptyAndStraySeparators) {
  auto q = Query::parse("&&a=1&&");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->pairs().size(), 1u);
  EXPECT_TRUE(Query::parse("")->pairs().empty());
}

}  // namespace
}  // namespace comet
