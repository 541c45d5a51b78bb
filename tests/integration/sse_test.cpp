// Server-Sent Events through nginx: events carry the message object and a
// resumable id; a reconnect with Last-Event-ID gets exactly what was missed;
// a cursor the gateway cannot place is a `gap` event; SIGTERM ends streams.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

// The `id:` line of the event whose data contains `needle`.
std::string event_id(const std::string& raw, const std::string& needle) {
  const auto at = raw.find(needle);
  if (at == std::string::npos) return {};
  const auto id = raw.rfind("\nid: ", at);
  if (id == std::string::npos) return {};
  const auto end = raw.find('\n', id + 5);
  return raw.substr(id + 5, end - id - 5);
}

TEST(Sse, StreamsEventsAndResumesWithLastEventId) {
  Stack stack;
  auto stream = stack.start_get("/comet/sse?channel=s1");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  ASSERT_TRUE(stream->read_until("retry:", std::chrono::seconds(5))) << stream->raw();
  EXPECT_NE(stream->raw().find("Content-Type: text/event-stream"), std::string::npos)
      << stream->raw();

  stack.publish("s1", "one");
  ASSERT_TRUE(stream->read_until("\"data\":\"one\"", std::chrono::seconds(10)))
      << stream->raw() << stack.logs();
  const std::string id = event_id(stream->raw(), "\"data\":\"one\"");
  ASSERT_FALSE(id.empty()) << stream->raw();
  // The data line is the poll's message object.
  EXPECT_NE(stream->raw().find("data: {\"channel\":\"s1\""), std::string::npos) << stream->raw();
  stream->close();
  ASSERT_TRUE(stack.wait_parked(0)) << "the closed stream stayed parked";

  stack.publish("s1", "two");
  stack.publish("s1", "three");
  // Both are in the gateway once a later poll on a fresh channel is
  // released: Redis delivers in publish order.
  auto fence = stack.start_get("/comet/poll?channel=fence&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1));
  stack.publish("fence", "x");
  ASSERT_TRUE(fence->read_response(std::chrono::seconds(10)));

  auto resumed = stack.start_get("/comet/sse?channel=s1", {{"Last-Event-ID", id}});
  ASSERT_TRUE(resumed->read_until("\"data\":\"three\"", std::chrono::seconds(10)))
      << resumed->raw() << stack.logs();
  const std::string& raw = resumed->raw();
  EXPECT_EQ(raw.find("\"data\":\"one\""), std::string::npos) << "duplicate after resume\n" << raw;
  ASSERT_NE(raw.find("\"data\":\"two\""), std::string::npos) << raw;
  EXPECT_LT(raw.find("\"data\":\"two\""), raw.find("\"data\":\"three\"")) << raw;
  EXPECT_EQ(raw.find("event: gap"), std::string::npos) << raw;
}

// An EventSource opened with since= in its URL reconnects with that same
// URL and a Last-Event-ID: it resumes from the id, not from since again.
TEST(Sse, LastEventIdWinsOverTheSinceOfTheFirstUrl) {
  Stack stack;
  const std::string url = "/comet/sse?channel=s2&since=earliest";
  stack.publish("s2", "one");
  auto fence = stack.start_get("/comet/poll?channel=s2&since=earliest&timeout=20");
  ASSERT_TRUE(fence->read_response(std::chrono::seconds(10))) << stack.logs();
  auto first = stack.start_get(url);
  ASSERT_TRUE(first->read_until("\"data\":\"one\"", std::chrono::seconds(10)))
      << first->raw() << stack.logs();
  const std::string id = event_id(first->raw(), "\"data\":\"one\"");
  ASSERT_FALSE(id.empty()) << first->raw();
  first->close();
  ASSERT_TRUE(stack.wait_parked(0));

  stack.publish("s2", "two");
  auto again = stack.start_get(url, {{"Last-Event-ID", id}});
  ASSERT_TRUE(again->read_until("\"data\":\"two\"", std::chrono::seconds(10)))
      << again->raw() << stack.logs();
  EXPECT_EQ(again->raw().find("\"data\":\"one\""), std::string::npos)
      << "replayed from since=earliest\n"
      << again->raw();
}

TEST(Sse, ForeignCursorIsAGapEvent) {
  Stack stack;
  auto stream =
      stack.start_get("/comet/sse?channel=g1,g2", {{"Last-Event-ID", "1.0123456789abcdef.5"}});
  ASSERT_TRUE(stream->read_until("event: gap", std::chrono::seconds(10))) << stream->raw();
  EXPECT_NE(stream->raw().find("data: {\"channels\":[\"g1\",\"g2\"]}"), std::string::npos)
      << stream->raw();
}

TEST(Sse, IdleStreamGetsKeepAlivesThenRotates) {
  StackOptions options;
  options.gateway_args = {"--sse-keepalive", "1", "--sse-lifetime", "3"};
  Stack stack(options);
  auto stream = stack.start_get("/comet/sse?channel=idle");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  // Nothing else is parked or published: only the stream's own deadline
  // can produce these.
  ASSERT_TRUE(stream->read_until(": keepalive\n", std::chrono::seconds(5))) << stream->raw();
  // The lifetime (3 s less up to 10 %) ends the stream cleanly.
  ASSERT_TRUE(stream->read_until("\r\n0\r\n\r\n", std::chrono::seconds(10))) << stream->raw();
}

TEST(Sse, BadInputIsAnErrorNotAStream) {
  Stack stack;
  EXPECT_EQ(stack.get("/comet/sse").status, 400);
  EXPECT_EQ(stack.get("/comet/sse?channel=a&since=nonsense").status, 400);
  EXPECT_EQ(stack.get("/comet/sse?channel=a%20b").status, 400);
}

TEST(Sse, SigtermEndsTheStream) {
  Stack stack;
  auto stream = stack.start_get("/comet/sse?channel=t");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  stack.gateway().process().signal(SIGTERM);
  // The chunked body's last chunk: the stream ended cleanly.
  ASSERT_TRUE(stream->read_until("\r\n0\r\n\r\n", std::chrono::seconds(10))) << stream->raw();
  auto status = stack.gateway().process().wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << stack.gateway().log();
}

}  // namespace
}  // namespace comet::test
