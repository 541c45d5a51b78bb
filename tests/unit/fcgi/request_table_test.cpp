#include "fcgi/detail/request_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace fcgi::detail {
namespace {

using Table = RequestTable<std::unique_ptr<std::string>>;

std::unique_ptr<std::string> slot(const char* s) {
  return std::make_unique<std::string>(s);
}

std::map<std::uint16_t, std::string> contents(Table& t) {
  std::map<std::uint16_t, std::string> out;
  t.for_each([&](std::uint16_t id, std::unique_ptr<std::string>& s) { out[id] = *s; });
  return out;
}

TEST(RequestTable, OneRequestAtATimeAsWebServersSendThem) {
  Table t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find(1), nullptr);
  for (int round = 0; round < 3; ++round) {
    t.insert(1, slot("poll"));
    ASSERT_NE(t.find(1), nullptr);
    EXPECT_EQ(**t.find(1), "poll");
    EXPECT_EQ(t.size(), 1u);
    EXPECT_TRUE(t.erase(1));
    EXPECT_FALSE(t.erase(1));
    EXPECT_TRUE(t.empty());
  }
}

TEST(RequestTable, MultiplexedRequestsAroundTheInlineSlot) {
  Table t;
  std::string& one = *t.insert(1, slot("one"));
  std::string& two = *t.insert(2, slot("two"));
  std::string& three = *t.insert(3, slot("three"));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_TRUE(t.contains(2));
  EXPECT_FALSE(t.contains(4));
  // The inline request ends first; another takes its place while the
  // others stay where they are.
  EXPECT_TRUE(t.erase(1));
  EXPECT_EQ(t.find(1), nullptr);
  std::string& four = *t.insert(4, slot("four"));
  EXPECT_EQ(&**t.find(2), &two);
  EXPECT_EQ(&**t.find(3), &three);
  EXPECT_EQ(&**t.find(4), &four);
  EXPECT_EQ(contents(t),
            (std::map<std::uint16_t, std::string>{{2, "two"}, {3, "three"}, {4, "four"}}));
  // A map request ends: the inline one is untouched.
  EXPECT_TRUE(t.erase(3));
  EXPECT_EQ(&**t.find(4), &four);
  EXPECT_EQ(t.size(), 2u);
  (void)one;
  t.clear();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find(2), nullptr);
  EXPECT_EQ(t.find(4), nullptr);
}

TEST(RequestTable, IdZeroAndTheHighestIdAreOrdinaryIds) {
  Table t;
  t.insert(65535, slot("max"));
  t.insert(0, slot("zero"));
  EXPECT_EQ(**t.find(65535), "max");
  EXPECT_EQ(**t.find(0), "zero");
  EXPECT_TRUE(t.erase(0));
  EXPECT_EQ(**t.find(65535), "max");
  EXPECT_EQ(t.find(0), nullptr);
}

TEST(RequestTable, AnEndedInlineRequestLetsGoAtOnce) {
  auto owned = std::make_shared<int>(1);
  RequestTable<std::shared_ptr<int>> t;
  t.insert(1, std::shared_ptr<int>(owned));
  EXPECT_EQ(owned.use_count(), 2);
  EXPECT_TRUE(t.erase(1));
  EXPECT_EQ(owned.use_count(), 1);
  t.insert(2, std::shared_ptr<int>(owned));
  t.clear();
  EXPECT_EQ(owned.use_count(), 1);
}

#if defined(__LP64__)
// A slot that ends in a flag, as a connection's does: the inline request's
// id and presence go in its tail padding, not in a word of their own.
struct FlaggedSlot {
  std::unique_ptr<int> p;
  bool flag = false;
};
static_assert(sizeof(RequestTable<FlaggedSlot>) ==
              sizeof(FlaggedSlot) + sizeof(std::unordered_map<std::uint16_t, FlaggedSlot>));
#endif

}  // namespace
}  // namespace fcgi::detail
