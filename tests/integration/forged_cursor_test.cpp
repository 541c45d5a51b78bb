// Forged cursors end to end: polls whose durable positions no gateway
// issued (random ids, ids from the future, on 64 channels, the gateway's own
// instance id or another's) cost at most a few stream reads each, counted
// by Redis itself (INFO commandstats), and a durable follower meanwhile
// loses nothing and gets no gap.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <set>

#include "gateway/core/cursor.hpp"
#include "tests/support/stack.hpp"

namespace comet::test {
namespace {

// Calls of one command since Redis started ("cmdstat_fcall_ro:calls=12,...");
// the commands a function runs count under their own names, so a stream
// read is one fcall_ro.
long long command_calls(RespClient& redis, const std::string& command) {
  const RespValue info = redis.command({"INFO", "commandstats"});
  const std::string key = "cmdstat_" + command + ":calls=";
  const auto at = info.str.find(key);
  if (at == std::string::npos) return 0;
  return std::stoll(info.str.substr(at + key.size()));
}

std::string poll_path(const std::vector<std::string>& channels, const std::string& cursor,
                      int timeout) {
  std::string p = "/comet/poll?channel=";
  for (std::size_t i = 0; i < channels.size(); ++i) p += (i ? "," : "") + channels[i];
  p += "&timeout=" + std::to_string(timeout);
  if (!cursor.empty()) p += "&since=" + url_encode(cursor);
  return p;
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// A cursor with a position on every channel: ids far in the past, in the
// last hour, or a day ahead of the clock, none of them issued.
std::string forged_cursor(std::mt19937_64& rng, const std::vector<std::string>& channels,
                          std::uint64_t epoch, std::uint64_t seq) {
  Cursor c{epoch, seq, {}};
  for (const auto& name : channels) {
    StreamId id;
    switch (rng() % 3) {
      case 0:
        id = StreamId{1 + rng() % 1000, rng() % 1000};
        break;
      case 1:
        id = StreamId{now_ms() - rng() % 3'600'000, rng() % 10};
        break;
      default:
        id = StreamId{now_ms() + 86'400'000 + rng() % 1000, 0};
        break;
    }
    c.positions.push_back(Position{channel_hash(name), id});
  }
  std::sort(c.positions.begin(), c.positions.end(),
            [](const Position& a, const Position& b) { return a.hash < b.hash; });
  return format_cursor(c);
}

struct Follower {
  std::string cursor;
  std::vector<std::string> got;
  int gaps = 0;
};

// Polls the follower's channel until it has `want` messages in all.
void follow(Stack& stack, Follower& f, std::size_t want) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (f.got.size() < want && Clock::now() < deadline) {
    const json j = expect_poll_response(stack.get(poll_path({"f"}, f.cursor, 5)));
    if (j.contains("gaps")) ++f.gaps;
    for (const auto& m : j["messages"]) f.got.push_back(message_bytes(m));
    f.cursor = j["cursor"];
  }
}

TEST(ForgedCursors, SixtyFourForgedPositionsCostAFewReadsAndAFollowerLosesNothing) {
  constexpr int kRequests = 100;
  constexpr int kConcurrent = 20;
  constexpr long long kMaxReadsPerPoll = 4;  // the default of --max-reads-per-poll
  Stack stack;
  RespClient redis(stack.redis().port());

  // The follower: a durable channel it follows with its cursors.
  Follower f;
  {
    auto first = stack.start_get(poll_path({"f"}, "", 20));
    ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
    stack.publish_durable("f", "m0");
    auto r = first->read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r) << stack.logs();
    const json j = expect_poll_response(*r);
    for (const auto& m : j["messages"]) f.got.push_back(message_bytes(m));
    f.cursor = j["cursor"];
  }
  ASSERT_EQ(f.got, std::vector<std::string>{"m0"});
  const auto own = parse_cursor(f.cursor);
  ASSERT_TRUE(own) << f.cursor;

  const long long reads_before = command_calls(redis, "fcall_ro");
  const long long publishes_before = command_calls(redis, "publish");
  std::mt19937_64 rng(9);
  std::vector<std::string> expected{"m0"};
  int answered = 0, forged_gaps = 0;
  for (int r = 0; r < kRequests; r += kConcurrent) {
    // The follower waits, parked, while the forged polls come in.
    auto parked = stack.start_get(poll_path({"f"}, f.cursor, 20));
    ASSERT_TRUE(stack.wait_parked(1)) << stack.logs();
    std::vector<std::unique_ptr<PendingRequest>> forged;
    for (int k = 0; k < kConcurrent; ++k) {
      // 63 channels of their own (new ones every other round, so nothing
      // is held for them) and the follower's.
      std::vector<std::string> channels{"f"};
      for (int i = 0; i < 63; ++i)
        channels.push_back("x" + std::to_string((r + k) % 2) + "." + std::to_string(i));
      // Half of them under this gateway's instance id, half under another's.
      const bool ours = k % 2 == 0;
      const std::string cursor = forged_cursor(rng, channels, ours ? own->epoch : rng() | 1,
                                               ours ? own->seq : rng() % 1000);
      forged.push_back(stack.start_get(poll_path(channels, cursor, 0)));
    }
    // Meanwhile the follower's channel goes on.
    const std::string payload = "m" + std::to_string(expected.size());
    stack.publish_durable("f", payload);
    expected.push_back(payload);
    for (auto& p : forged) {
      auto resp = p->read_response(std::chrono::seconds(20));
      ASSERT_TRUE(resp) << stack.logs();
      EXPECT_EQ(resp->status, 200) << resp->body;
      const json j = json::parse(resp->body, nullptr, false);
      if (!j.is_discarded() && j.contains("gaps"))
        forged_gaps += static_cast<int>(j["gaps"].size());
      ++answered;
    }
    auto answer = parked->read_response(std::chrono::seconds(20));
    ASSERT_TRUE(answer) << stack.logs();
    const json j = expect_poll_response(*answer);
    if (j.contains("gaps")) ++f.gaps;
    for (const auto& m : j["messages"]) f.got.push_back(message_bytes(m));
    f.cursor = j["cursor"];
    follow(stack, f, expected.size());
  }
  const long long reads = command_calls(redis, "fcall_ro") - reads_before;
  // Less the follower's publishes (PHP's FCALL) and its polls' nothing.
  // Commands the gateway sent: its stream reads, and PUBLISH (barriers on
  // other instances' cursors, heartbeats); PHP's publishes are FCALLs.
  const long long publishes = command_calls(redis, "publish") - publishes_before;
  std::cout << "forged requests: " << answered << ", FCALL_RO per request "
            << static_cast<double>(reads) / answered << " (" << reads << " in all), PUBLISH per "
            << "request " << static_cast<double>(publishes) / answered
            << "; gaps named in their answers " << forged_gaps << "; follower: " << f.got.size()
            << " of " << expected.size() << " messages, " << f.gaps << " answers with gaps\n";
  EXPECT_EQ(answered, kRequests);
  EXPECT_LE(reads, kMaxReadsPerPoll * kRequests);
  EXPECT_EQ(f.got, expected) << stack.logs();
  EXPECT_EQ(f.gaps, 0);
  // Every forged answer names gaps, and the gateway says why.
  EXPECT_GE(forged_gaps, 60 * kRequests);
  EXPECT_GT(stack.metric("comet_cursor_positions_refused_total").value_or(0), 0) << stack.logs();
}

// One refusal counter of /stats.
double refused(Stack& stack, const std::string& reason) {
  return stack.metric("comet_cursor_positions_refused_total{reason=\"" + reason + "\"}")
      .value_or(-1);
}

TEST(ForgedCursors, ReadsPastThePollsAndTheGatewaysBudgetAreGapsCountedByReason) {
  StackOptions o;
  o.gateway_args = {"--max-stream-reads", "1"};
  Stack stack(o);
  RespClient redis(stack.redis().port());
  std::vector<std::string> channels;
  for (int i = 0; i < 8; ++i) channels.push_back("b." + std::to_string(i));
  Cursor c{0x0123456789abcdefULL, 1, {}};
  for (std::size_t i = 0; i < channels.size(); ++i)
    c.positions.push_back(Position{channel_hash(channels[i]), StreamId{1 + i, 0}});
  c.positions.push_back(Position{channel_hash("not.polled"), StreamId{9, 0}});
  std::sort(c.positions.begin(), c.positions.end(),
            [](const Position& a, const Position& b) { return a.hash < b.hash; });

  const long long before = command_calls(redis, "fcall_ro");
  const json j = expect_poll_response(stack.get(poll_path(channels, format_cursor(c), 0)));
  // 4 reads for this poll (--max-reads-per-poll), of which the gateway's
  // budget of 1 read in flight takes one: every channel is a gap (the one
  // read finds no stream), and Redis saw a single read.
  EXPECT_EQ(j["gaps"].size(), channels.size()) << j.dump();
  EXPECT_EQ(command_calls(redis, "fcall_ro") - before, 1);
  EXPECT_EQ(refused(stack, "per_poll"), 4);
  EXPECT_EQ(refused(stack, "budget"), 3);
  EXPECT_EQ(refused(stack, "unmatched"), 1);
  EXPECT_EQ(refused(stack, "future"), 0);
  EXPECT_EQ(stack.metric("comet_stream_reads_pending"), 0);
  EXPECT_EQ(stack.metric("comet_stream_read_bytes"), 0);
}

}  // namespace
}  // namespace comet::test
