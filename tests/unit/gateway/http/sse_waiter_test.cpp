#include "gateway/http/sse_waiter.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

MessagePtr message(std::uint64_t seq, std::string channel, std::string json) {
  auto m = std::make_shared<Message>();
  m->seq = seq;
  m->channel = std::move(channel);
  m->encoded = std::move(json);
  return m;
}

TEST(SseEncode, MessagesGapsAndResumeId) {
  Batch b;
  b.cursor = Cursor{0xabc, 0x12};
  b.gaps = {"a", "b"};
  b.messages = {message(0x10, "a", R"({"channel":"a","id":"x","data":"1"})"),
                message(0x11, "b", R"({"channel":"b","id":"y","data":"2"})")};
  const std::string text = SseWaiter::encode(b);
  const std::string expected =
      "event: gap\ndata: {\"channels\":[\"a\",\"b\"]}\n\n"
      "id: " +
      format_cursor({0xabc, 0x10}) +
      "\ndata: {\"channel\":\"a\",\"id\":\"x\",\"data\":\"1\"}\n\n"
      "id: " +
      format_cursor({0xabc, 0x11}) +
      "\ndata: {\"channel\":\"b\",\"id\":\"y\",\"data\":\"2\"}\n\n"
      "id: " +
      format_cursor({0xabc, 0x12}) + "\n\n";
  EXPECT_EQ(text, expected);
}

TEST(SseEncode, EmptyBatchOnlyMovesTheId) {
  Batch b;
  b.cursor = Cursor{1, 2};
  EXPECT_EQ(SseWaiter::encode(b), ": keepalive\nid: " + format_cursor({1, 2}) + "\n\n");
}

}  // namespace
}  // namespace comet
