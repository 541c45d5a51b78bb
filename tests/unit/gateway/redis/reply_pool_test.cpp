// ReplyPool: the replies a ReplyReader builds from its free lists are what
// hiredis' own functions build from the same bytes, field by field, also
// when a reused object held a longer string or a bigger array before; an
// array cut short by a protocol error goes back whole (ASan would see a
// leak or a double free).
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "gateway/redis/reply_router.hpp"
#include "resp.hpp"

namespace comet {
namespace {

using test::bulk;

void expect_same(const redisReply& a, const redisReply& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  EXPECT_EQ(a.integer, b.integer) << where;
  EXPECT_EQ(a.len, b.len) << where;
  ASSERT_EQ(a.str == nullptr, b.str == nullptr) << where;
  if (a.str != nullptr) {
    EXPECT_EQ(std::string_view(a.str, a.len), std::string_view(b.str, b.len)) << where;
    EXPECT_EQ(a.str[a.len], '\0') << where;
  }
  ASSERT_EQ(a.elements, b.elements) << where;
  ASSERT_EQ(a.element == nullptr, b.element == nullptr) << where;
  for (std::size_t i = 0; i < a.elements; ++i) {
    expect_same(*a.element[i], *b.element[i], where + "[" + std::to_string(i) + "]");
  }
}

std::string big_array(int n) {
  std::string s = "*" + std::to_string(n) + "\r\n";
  for (int i = 0; i < n; ++i) s += ":" + std::to_string(i) + "\r\n";
  return s;
}

TEST(ReplyPool, BuildsWhatHiredisBuildsAndReusesItsObjects) {
  const std::vector<std::string> replies = {
      "*4\r\n" + bulk("pmessage") + bulk("comet:*") + bulk("comet:a") +
          bulk(std::string(3000, 'x')),
      "*4\r\n" + bulk("pmessage") + bulk("comet:*") + bulk("comet:b") + bulk("hi"),
      "+OK\r\n",
      "-ERR no\r\n",
      ":-42\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "*0\r\n",
      "*3\r\n*2\r\n:1\r\n$-1\r\n*0\r\n" + bulk(""),
      "*1\r\n" + bulk("one"),
      "*6\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n+six\r\n",
      "*2\r\n:1\r\n:2\r\n",
      // Past what a released object keeps (4 KiB, 256 elements): freed.
      bulk(std::string(5000, 'y')),
      big_array(300),
  };
  ReplyReader reader;
  std::string error;
  // Twice: the second pass builds every reply from objects the first
  // released.
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& bytes : replies) {
      ASSERT_TRUE(reader.feed(bytes));
      ReplyReader::Reply got = reader.next(error);
      ASSERT_TRUE(error.empty()) << error;
      ASSERT_NE(got, nullptr) << bytes;
      expect_same(*got, *test::resp(bytes), bytes);
    }
  }
}

TEST(ReplyPool, AnArrayCutShortByAnErrorIsReleased) {
  ReplyReader reader;
  std::string error;
  // Two elements of five, then a byte no RESP type starts with.
  ASSERT_TRUE(reader.feed("*5\r\n" + bulk("a") + ":7\r\n" + "?\r\n"));
  EXPECT_EQ(reader.next(error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(ReplyPool, AReplyInProgressWhenTheReaderGoesIsReleased) {
  ReplyReader reader;
  std::string error;
  ASSERT_TRUE(reader.feed("*3\r\n" + bulk("a") + "*2\r\n:1\r\n"));
  EXPECT_EQ(reader.next(error), nullptr);  // incomplete
  EXPECT_TRUE(error.empty());
}

}  // namespace
}  // namespace comet
