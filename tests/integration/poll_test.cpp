// GET .../poll through nginx (rendered from nginx.conf.example): parking,
// release by a PHP publish, payload fidelity, multi-channel polls, cursors,
// timeouts, errors and JSONP, as docs/API.md specifies.
#include <gtest/gtest.h>

#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

constexpr auto kRelease = std::chrono::seconds(10);

class PollTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << stack_.logs();
  }

  // Parks a poll, publishes payload from PHP on `publish_on`, returns the
  // JSON answer of the poll.
  json park_and_publish(const std::string& query, const std::string& publish_on,
                        const std::string& payload) {
    auto poll = stack_.start_get("/comet/poll?" + query);
    EXPECT_TRUE(stack_.wait_parked(1)) << "poll never parked; parked=" << stack_.parked();
    stack_.publish(publish_on, payload);
    auto r = poll->read_response(kRelease);
    if (!r) {
      ADD_FAILURE() << "parked poll not released by the publish";
      return json::object();
    }
    return expect_poll_response(*r);
  }

  // Publishes, then makes sure the gateway has received the message, using
  // the order Redis keeps on one subscription: a poll parked on a fresh
  // channel is released by a later publish only after the gateway has read
  // everything published before it.
  void publish_and_sync(const std::string& channel, const std::string& payload) {
    stack_.publish(channel, payload);
    const std::string marker = "sync." + std::to_string(++syncs_);
    const double parked_before = stack_.parked();
    auto poll = stack_.start_get("/comet/poll?timeout=20&channel=" + marker);
    EXPECT_TRUE(
        wait_until([&] { return stack_.parked() >= parked_before + 1; }, std::chrono::seconds(10)))
        << "sync poll never parked (" << parked_before << " before)";
    stack_.publish(marker, "sync");
    EXPECT_TRUE(poll->read_response(kRelease).has_value()) << "sync poll not released";
  }

  Stack stack_;
  int syncs_ = 0;
};

std::string single_payload(const json& j, const std::string& channel) {
  EXPECT_EQ(j["messages"].size(), 1u) << j.dump();
  if (j["messages"].size() != 1) return {};
  const json& m = j["messages"][0];
  EXPECT_EQ(m["channel"], channel);
  EXPECT_TRUE(m.contains("id") && m["id"].is_string()) << m.dump();
  EXPECT_FALSE(j.contains("gaps")) << j.dump();
  return message_bytes(m);
}

TEST_F(PollTest, ReleasesParkedPollWithUtf8PayloadByteForByte) {
  const std::string payload =
      "{\"text\":\"h\xC3\xA9llo \\\"quoted\\\" back\\\\slash\"}\nnew\"line\\ "
      "\xF0\x9F\x98\x80 \xE2\x82\xAC \t\r end";
  json j = park_and_publish("channel=chat.42&timeout=20", "chat.42", payload);
  ASSERT_TRUE(j["messages"][0].contains("data")) << j.dump();
  EXPECT_EQ(single_payload(j, "chat.42"), payload);
  EXPECT_TRUE(stack_.wait_parked(0));
}

TEST_F(PollTest, InvalidUtf8ArrivesAsBase64) {
  const std::string payload("\xff\xfe\x00\x01 abc \x80\xc3\x28 \x00", 14);
  json j = park_and_publish("channel=bin&timeout=20", "bin", payload);
  ASSERT_EQ(j["messages"].size(), 1u) << j.dump();
  EXPECT_FALSE(j["messages"][0].contains("data")) << j.dump();
  ASSERT_TRUE(j["messages"][0].contains("data_base64")) << j.dump();
  EXPECT_EQ(single_payload(j, "bin"), payload);
}

TEST_F(PollTest, OneMebibytePayload) {
  std::string payload(1 << 20, ' ');
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = "abcdefghijklmnopqrstuvwxyz0123456789 \"\\\n/"[i % 41];
  }
  json j = park_and_publish("channel=big&timeout=20", "big", payload);
  EXPECT_EQ(single_payload(j, "big"), payload);
}

TEST_F(PollTest, RepeatedChannelParameters) {
  json j = park_and_publish("channel=room.a&channel=room.b&timeout=20", "room.b", "to b");
  EXPECT_EQ(single_payload(j, "room.b"), "to b");
}

TEST_F(PollTest, CommaSeparatedChannels) {
  json j = park_and_publish("channel=room.a,room.b&timeout=20", "room.a", "to a");
  EXPECT_EQ(single_payload(j, "room.a"), "to a");
}

TEST_F(PollTest, OtherChannelsDoNotReleaseAPoll) {
  auto poll = stack_.start_get("/comet/poll?channel=quiet&timeout=20");
  ASSERT_TRUE(stack_.wait_parked(1));
  publish_and_sync("noisy", "x");
  EXPECT_FALSE(poll->has_data());
  EXPECT_EQ(stack_.parked(), 1);
  stack_.publish("quiet", "y");
  auto r = poll->read_response(kRelease);
  ASSERT_TRUE(r);
  EXPECT_EQ(single_payload(expect_poll_response(*r), "quiet"), "y");
}

TEST_F(PollTest, TimeoutGivesEmptyAnswerWithUsableCursor) {
  auto start = Clock::now();
  auto r = stack_.get("/comet/poll?channel=idle&timeout=1", {}, std::chrono::seconds(15));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  json j = expect_poll_response(r);
  EXPECT_TRUE(j["messages"].empty()) << r.body;
  EXPECT_FALSE(j.contains("gaps")) << r.body;
  const std::string cursor = j["cursor"];
  ASSERT_FALSE(cursor.empty());

  json next = park_and_publish("channel=idle&timeout=20&since=" + url_encode(cursor), "idle",
                               "after timeout");
  EXPECT_EQ(single_payload(next, "idle"), "after timeout");
}

TEST_F(PollTest, TimeoutZeroAnswersAtOnce) {
  auto r = stack_.get("/comet/poll?channel=now&timeout=0", {}, std::chrono::seconds(5));
  json j = expect_poll_response(r);
  EXPECT_TRUE(j["messages"].empty());
}

TEST_F(PollTest, CursorCollectsMessagesPublishedBetweenPolls) {
  json first = park_and_publish("channel=seq&timeout=20", "seq", "m1");
  EXPECT_EQ(single_payload(first, "seq"), "m1");
  const std::string cursor = first["cursor"];
  publish_and_sync("seq", "m2");
  publish_and_sync("seq", "m3");

  // Buffered messages are answered at once, all of them, in order.
  auto start = Clock::now();
  auto r = stack_.get("/comet/poll?channel=seq&timeout=20&since=" + url_encode(cursor));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  json j = expect_poll_response(r);
  ASSERT_EQ(j["messages"].size(), 2u) << r.body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "m2");
  EXPECT_EQ(message_bytes(j["messages"][1]), "m3");
  EXPECT_NE(j["cursor"], cursor);

  // Following the new cursor: nothing again.
  auto again = stack_.get("/comet/poll?channel=seq&timeout=0&since=" +
                          url_encode(j["cursor"].get<std::string>()));
  EXPECT_TRUE(expect_poll_response(again)["messages"].empty()) << again.body;
}

TEST_F(PollTest, SinceEarliestReturnsBufferedMessages) {
  json first = park_and_publish("channel=hist&timeout=20", "hist", "old1");
  EXPECT_EQ(single_payload(first, "hist"), "old1");
  publish_and_sync("hist", "old2");

  auto r = stack_.get("/comet/poll?channel=hist&since=earliest&timeout=0");
  json j = expect_poll_response(r);
  ASSERT_EQ(j["messages"].size(), 2u) << r.body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "old1");
  EXPECT_EQ(message_bytes(j["messages"][1]), "old2");
}

TEST_F(PollTest, NewPollWithoutSinceSeesOnlyLaterMessages) {
  publish_and_sync("fresh", "before");
  auto r = stack_.get("/comet/poll?channel=fresh&timeout=0");
  EXPECT_TRUE(expect_poll_response(r)["messages"].empty()) << r.body;
}

void expect_error(const HttpResponse& r, int status, const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << r.body;
  json j = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << what << ": error body is not JSON: " << r.body;
  EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << what << ": " << r.body;
  EXPECT_TRUE(j.contains("message") && j["message"].is_string()) << what << ": " << r.body;
}

TEST_F(PollTest, BadParametersAre400) {
  expect_error(stack_.get("/comet/poll?timeout=0"), 400, "no channel");
  expect_error(stack_.get("/comet/poll?channel=&timeout=0"), 400, "empty channel");
  expect_error(stack_.get("/comet/poll?channel=a%2Fb&timeout=0"), 400, "slash in channel");
  expect_error(stack_.get("/comet/poll?channel=a%20b&timeout=0"), 400, "space in channel");
  expect_error(stack_.get("/comet/poll?channel=" + std::string(129, 'c') + "&timeout=0"), 400,
               "129-character channel");
  expect_error(stack_.get("/comet/poll?channel=ok&since=%21%21not-a-cursor&timeout=0"), 400,
               "malformed cursor");
  expect_error(stack_.get("/comet/poll?channel=ok&callback=1fn&timeout=0"), 400,
               "callback starting with a digit");
  expect_error(stack_.get("/comet/poll?channel=ok&callback=alert(1)&timeout=0"), 400,
               "callback with parentheses");
  // 128 characters of every allowed kind are fine.
  std::string longest = "AZaz09_.:@-";
  longest += std::string(128 - longest.size(), 'x');
  auto ok = stack_.get("/comet/poll?channel=" + url_encode(longest) + "&timeout=0");
  expect_poll_response(ok);
}

TEST_F(PollTest, TooManyChannelsIs413) {
  std::string list;
  for (int i = 0; i < 65; ++i) list += (i ? "," : "") + std::string("c") + std::to_string(i);
  expect_error(stack_.get("/comet/poll?channel=" + list + "&timeout=0"), 413, "65 channels");
}

TEST_F(PollTest, UnknownEndpointIs404) {
  expect_error(stack_.get("/comet/nope"), 404, "unknown endpoint");
  expect_error(stack_.get("/comet/poll/extra"), 404, "segment after poll");
}

TEST_F(PollTest, WrongMethodIs405WithAllow) {
  auto r = http_request(stack_.http_port(), "POST", "/comet/poll?channel=a&timeout=0", {}, "x");
  expect_error(r, 405, "POST poll");
  EXPECT_NE(r.header("allow").find("GET"), std::string::npos) << r.header("allow");

  auto p = stack_.get("/comet/publish?channel=a");
  expect_error(p, 405, "GET publish");
  EXPECT_NE(p.header("allow").find("POST"), std::string::npos) << p.header("allow");
}

TEST_F(PollTest, HttpPublishIsRefusedByDefault) {
  auto r = http_request(stack_.http_port(), "POST", "/comet/publish?channel=a", {}, "x");
  expect_error(r, 403, "publish without configuration");
}

TEST_F(PollTest, Jsonp) {
  auto r = stack_.get("/comet/poll?channel=js&timeout=0&callback=my.cb_1$");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("application/javascript"), std::string::npos)
      << r.header("content-type");
  std::string body = r.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  const std::string open = "my.cb_1$(";
  ASSERT_EQ(body.compare(0, open.size(), open), 0) << body;
  ASSERT_GE(body.size(), open.size() + 2);
  ASSERT_EQ(body.substr(body.size() - 2), ");") << body;
  json j = json::parse(body.substr(open.size(), body.size() - open.size() - 2), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << body;
  EXPECT_TRUE(j["cursor"].is_string());
  EXPECT_TRUE(j["messages"].is_array());
}

TEST_F(PollTest, HealthAndStatsThroughNginx) {
  auto h = stack_.get("/comet/health");
  EXPECT_EQ(h.status, 200) << h.body;
  json hj = json::parse(h.body, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << h.body;
  EXPECT_EQ(hj["redis"], "up");

  auto s = stack_.get("/comet/stats");
  EXPECT_EQ(s.status, 200) << s.body;
  EXPECT_NE(s.header("content-type").find("text/plain"), std::string::npos);
  for (const char* name :
       {"comet_parked_requests", "comet_fcgi_connections", "comet_channels",
        "comet_messages_received_total", "comet_messages_delivered_total", "comet_responses_total",
        "comet_gaps_total", "comet_redis_up", "comet_redis_reconnects_total", "comet_stream_marks",
        "comet_delivery_latency_seconds_bucket", "comet_delivery_latency_seconds_count"}) {
    EXPECT_TRUE(parse_metric(s.body, name).has_value()) << "missing metric " << name;
  }
  EXPECT_EQ(parse_metric(s.body, "comet_redis_up"), 1.0);
}

// A prefix is matched as it is written, glob characters included: with
// "site[1]:", the gateway hears "site[1]:NAME" and not "site1:NAME".
TEST(Prefix, GlobCharactersInThePrefixAreMatchedLiterally) {
  StackOptions o;
  o.gateway_args = {"--prefix", "site[1]:"};
  Stack stack(o);
  auto poll = stack.start_get("/comet/poll?channel=g&timeout=20");
  ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
  RespClient redis(stack.redis().port());
  EXPECT_EQ(redis.command({"PUBLISH", "site1:g", "other site"}).integer, 0);
  EXPECT_EQ(redis.command({"PUBLISH", "site[1]:g", "this site"}).integer, 1);
  auto r = poll->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << stack.logs();
  const json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "this site");
}

}  // namespace
}  // namespace comet::test
