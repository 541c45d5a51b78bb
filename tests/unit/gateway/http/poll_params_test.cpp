#include "gateway/http/poll_params.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

std::variant<PollParams, HttpError> parse(std::string_view qs, std::string_view last_event_id = {},
                                          PollLimits limits = {}) {
  auto q = Query::parse(qs);
  EXPECT_TRUE(q);
  return parse_poll_params(*q, last_event_id, limits);
}

PollParams ok(const std::variant<PollParams, HttpError>& v) {
  if (auto* e = std::get_if<HttpError>(&v)) ADD_FAILURE() << e->code << ": " << e->message;
  return std::get<PollParams>(v);
}

int status(const std::variant<PollParams, HttpError>& v) {
  auto* e = std::get_if<HttpError>(&v);
  return e ? e->status : 200;
}

TEST(PollParams, ChannelsRepeatedAndCommaSeparatedAreTheSame) {
  const auto a = ok(parse("channel=a&channel=b&channel=c"));
  const auto b = ok(parse("channel=a,b,c"));
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.channels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ok(parse("channel=a,b&channel=a")).channels, (std::vector<std::string>{"a", "b"}));
}

TEST(PollParams, BadOrMissingChannels) {
  EXPECT_EQ(status(parse("")), 400);
  EXPECT_EQ(status(parse("channel=")), 400);
  EXPECT_EQ(status(parse("channel=a,,b")), 400);
  EXPECT_EQ(status(parse("channel=a%20b")), 400);
  PollLimits limits;
  limits.max_channels = 2;
  EXPECT_EQ(status(parse("channel=a,b", {}, limits)), 200);
  EXPECT_EQ(status(parse("channel=a,b,c", {}, limits)), 413);
}

TEST(PollParams, Since) {
  EXPECT_EQ(ok(parse("channel=a")).since.kind, Since::Kind::now);
  EXPECT_EQ(ok(parse("channel=a&since=")).since.kind, Since::Kind::now);
  EXPECT_EQ(ok(parse("channel=a&since=earliest")).since.kind, Since::Kind::earliest);
  const std::string cursor = format_cursor({0x1234, 0x99});
  const auto p = ok(parse("channel=a&since=" + cursor));
  EXPECT_EQ(p.since.kind, Since::Kind::cursor);
  EXPECT_EQ(p.since.cursor, (Cursor{0x1234, 0x99}));
  EXPECT_EQ(status(parse("channel=a&since=garbage")), 400);
  // Last-Event-ID (SSE) is used when since is absent, and wins over it: an
  // EventSource reconnects with its first URL and the id it got to.
  EXPECT_EQ(ok(parse("channel=a", cursor)).since.cursor, (Cursor{0x1234, 0x99}));
  EXPECT_EQ(ok(parse("channel=a&since=earliest", cursor)).since.cursor, (Cursor{0x1234, 0x99}));
  EXPECT_EQ(ok(parse("channel=a&since=", cursor)).since.cursor, (Cursor{0x1234, 0x99}));
  EXPECT_EQ(ok(parse("channel=a&since=earliest", "")).since.kind, Since::Kind::earliest);
}

TEST(PollParams, TimeoutDefaultClampAndErrors) {
  PollLimits limits;
  limits.default_timeout = std::chrono::seconds(25);
  limits.max_timeout = std::chrono::seconds(50);
  EXPECT_EQ(ok(parse("channel=a", {}, limits)).timeout, std::chrono::seconds(25));
  EXPECT_EQ(ok(parse("channel=a&timeout=0", {}, limits)).timeout, std::chrono::seconds(0));
  EXPECT_EQ(ok(parse("channel=a&timeout=2.5", {}, limits)).timeout,
            std::chrono::milliseconds(2500));
  EXPECT_EQ(ok(parse("channel=a&timeout=3600", {}, limits)).timeout, std::chrono::seconds(50));
  EXPECT_EQ(ok(parse("channel=a&timeout=99999999999", {}, limits)).timeout,
            std::chrono::seconds(50));
  EXPECT_EQ(status(parse("channel=a&timeout=-1")), 400);
  EXPECT_EQ(status(parse("channel=a&timeout=abc")), 400);
  EXPECT_EQ(status(parse("channel=a&timeout=1.")), 400);
  EXPECT_EQ(status(parse("channel=a&timeout=1.2345")), 400);
  EXPECT_EQ(status(parse("channel=a&timeout=")), 400);
}

TEST(PollParams, JsonpCallback) {
  EXPECT_EQ(ok(parse("channel=a&callback=jQuery.cb_1$")).callback, "jQuery.cb_1$");
  EXPECT_EQ(status(parse("channel=a&callback=1abc")), 400);
  EXPECT_EQ(status(parse("channel=a&callback=alert(1)")), 400);
  EXPECT_EQ(status(parse("channel=a&callback=" + std::string(65, 'a'))), 400);
  EXPECT_EQ(status(parse("channel=a&callback=" + std::string(64, 'a'))), 200);
  EXPECT_EQ(status(parse("channel=a&callback=")), 400);
}

}  // namespace
}  // namespace comet

namespace comet {
namespace {

TEST(PollParams, AdmittedOnlyWithWhatAccessControlAccepts) {
  const auto q = Query::parse("channel=a&timeout=5");
  ASSERT_TRUE(q);
  // Off: every well-formed poll is admitted.
  EXPECT_EQ(status(admit_poll_params(*q, {}, {}, AccessControl{})), 200);
  // On: no token, no admission; a malformed poll is still a 400 first.
  const AccessControl on({"a-secret-of-at-least-16-chars"});
  const auto refused = admit_poll_params(*q, {}, {}, on);
  ASSERT_EQ(status(refused), 403);
  EXPECT_EQ(std::get<HttpError>(refused).code, "token_required");
  const auto bad = Query::parse("timeout=5");
  ASSERT_TRUE(bad);
  EXPECT_EQ(status(admit_poll_params(*bad, {}, {}, on)), 400);
}

}  // namespace
}  // namespace comet
