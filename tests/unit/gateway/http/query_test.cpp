#include "gateway/http/query.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
  EXPECT_EQ(q->size(), 1u);
  EXPECT_EQ(Query::parse("")->size(), 0u);
}

TEST(Query, EscapesAndPlusInKeysAndValuesAtEveryPosition) {
  auto q = Query::parse("%61b+c=%2b+x%20&d%3D=+&e=a%25b%26c&f=plain");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0].first, "ab c");
  EXPECT_EQ((*q)[0].second, "+ x ");
  EXPECT_EQ((*q)[1].first, "d=");
  EXPECT_EQ((*q)[1].second, " ");
  EXPECT_EQ((*q)[2].second, "a%b&c");
  EXPECT_EQ((*q)[3].second, "plain");
  EXPECT_FALSE(Query::parse("a=ok&b=%2"));
  EXPECT_FALSE(Query::parse("a=ok&%"));
}

TEST(Query, ValuesSurviveCopiesAndMoves) {
  std::optional<Query> copy;
  {
    auto q = Query::parse("channel=a.very.long.channel.name.beyond.any.small.string&since=x");
    ASSERT_TRUE(q);
    copy = *q;
  }
  EXPECT_EQ(copy->get("channel").value(), "a.very.long.channel.name.beyond.any.small.string");
  Query moved = std::move(*copy);
  EXPECT_EQ(moved.get("since").value(), "x");
}

TEST(Query, ForEachVisitsEveryValueOfAKeyInOrder) {
  auto q = Query::parse("channel=a&x=1&channel=b&channel=&x=2");
  ASSERT_TRUE(q);
  std::vector<std::string> seen;
  q->for_each("channel", [&](std::string_view v) { seen.emplace_back(v); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", ""}));
  EXPECT_EQ(q->all("x"), (std::vector<std::string_view>{"1", "2"}));
}

TEST(Query, PercentDecodeAlone) {
  EXPECT_EQ(percent_decode("a+b%2Fc", true).value(), "a b/c");
  EXPECT_EQ(percent_decode("a+b%2Fc", false).value(), "a+b/c");
  EXPECT_EQ(percent_decode(std::string(300, 'x'), true).value(), std::string(300, 'x'));
  EXPECT_FALSE(percent_decode("%", true));
}

}  // namespace
}  // namespace comet
