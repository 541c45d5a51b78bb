#include "gateway/redis/command_replies.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

using test::bulk;

StreamId id(const char* text) {
  return *StreamId::parse(text);
}

std::string array(std::initializer_list<std::string> items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) out += bulk(i);
  return out;
}

TEST(ParseStreamRead, OkWithEntries) {
  auto r = parse_stream_read(*test::resp(array({"ok", "", "5-1", "a", "5-2", "b"})), id("5-0"), 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, StreamRead::Status::ok);
  EXPECT_EQ(r->from, id("5-0"));
  EXPECT_EQ(r->base, id("5-0"));
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[1].id, id("5-2"));
  EXPECT_EQ(r->entries[1].payload, "b");
  EXPECT_TRUE(r->complete);
}

TEST(ParseStreamRead, AsManyAsAskedForMayNotBeAll) {
  auto r = parse_stream_read(*test::resp(array({"ok", "", "5-1", "a", "5-2", "b"})), id("5-0"), 2);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->complete);
}

TEST(ParseStreamRead, NoneAndGap) {
  auto none = parse_stream_read(*test::resp(array({"none", ""})), id("1-0"), 5);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, StreamRead::Status::none);
  auto gap = parse_stream_read(*test::resp(array({"gap", "7-3", "9-0", "x"})), id("1-0"), 5);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->status, StreamRead::Status::gap);
  EXPECT_EQ(gap->base, id("7-3"));
  // "*": the stream began again at its first entry.
  auto restarted = parse_stream_read(*test::resp(array({"gap", "*", "9-1", "x"})), id("1-0"), 5);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(restarted->base, id("9-0"));
}

TEST(ParseStreamRead, WhatIsNotOne) {
  const StreamId after = id("1-0");
  EXPECT_FALSE(parse_stream_read(*test::error("ERR Function not found"), after, 5));
  EXPECT_FALSE(parse_stream_read(*test::resp(array({"ok"})), after, 5));
  EXPECT_FALSE(parse_stream_read(*test::resp(array({"ok", "", "5-1"})), after, 5));
  EXPECT_FALSE(parse_stream_read(*test::resp(array({"ok", "", "nope", "a"})), after, 5));
  EXPECT_FALSE(parse_stream_read(*test::resp(array({"what", ""})), after, 5));
  EXPECT_FALSE(parse_stream_read(*test::resp(array({"gap", "7-3"})), after, 5));  // gap of nothing
  EXPECT_FALSE(parse_stream_read(*test::resp("*2\r\n" + bulk("ok") + ":1\r\n"), after, 5));
}

TEST(ParsePublish, PlainDurableAndFailures) {
  auto plain = parse_publish(test::integer(3).get(), false);
  EXPECT_TRUE(plain.ok);
  EXPECT_TRUE(plain.answered);
  EXPECT_EQ(plain.receivers, 3);
  auto durable = parse_publish(test::resp(bulk("1700-0")).get(), true);
  EXPECT_TRUE(durable.ok);
  EXPECT_EQ(durable.receivers, 1);
  EXPECT_EQ(durable.id, "1700-0");
  auto refused = parse_publish(test::error("NOPERM no rights").get(), false);
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.answered);
  EXPECT_EQ(refused.error, "NOPERM no rights");
  // An error reply without text ("-\r\n") is still a failure with a reason.
  auto blank = parse_publish(test::error("").get(), true);
  EXPECT_FALSE(blank.ok);
  EXPECT_TRUE(blank.answered);
  EXPECT_EQ(blank.error, "an error reply without text");
  auto none = parse_publish(nullptr, true);
  EXPECT_FALSE(none.answered);
  EXPECT_EQ(none.error, "no answer from Redis");
  EXPECT_EQ(parse_publish(test::integer(1).get(), true).error, "an unexpected reply");
  EXPECT_EQ(parse_publish(test::resp(bulk("x")).get(), false).error, "an unexpected reply");
}

}  // namespace
}  // namespace comet
