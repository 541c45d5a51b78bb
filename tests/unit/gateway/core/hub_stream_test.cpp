// The Hub's stream positions (stream_marks.hpp): cursors that one gateway
// gives out and another, subscribed to the same Redis server, places
// exactly. Each test feeds two Hubs one stream, as two gateways hear it.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/hub.hpp"
#include "gateway/http/poll_json.hpp"

namespace comet {
namespace {

using namespace std::chrono_literals;

const PollJson kJson;
const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(10) + 3ms);

class FakeWaiter : public Waiter {
 public:
  std::vector<BatchPtr> got;

 protected:
  void on_release(const BatchPtr& b) override { got.push_back(b); }
};

std::vector<std::string> chans(std::initializer_list<const char*> names) {
  return std::vector<std::string>(names.begin(), names.end());
}

HubOptions options() {
  HubOptions o;
  o.timeout_jitter = 0;
  return o;
}

Since since_cursor(Cursor c) {
  return Since{Since::Kind::cursor, std::move(c)};
}

std::vector<std::string> payloads(const Batch& b) {
  std::vector<std::string> out;
  for (const auto& m : b.messages) {
    // The payload is the last JSON string of the encoded message.
    const auto& e = m->encoded;
    const auto end = e.rfind('"');
    const auto start = e.rfind('"', end - 1);
    out.push_back(e.substr(start + 1, end - start - 1));
  }
  return out;
}

// Two gateways on one Redis server: both hear every message and mark in
// one order.
struct TwoGateways {
  Hub a{options(), 0xaaaa, kJson};
  Hub b{options(), 0xbbbb, kJson};
  void publish(const std::string& channel, const std::string& payload) {
    a.receive(channel, payload, kT0);
    b.receive(channel, payload, kT0);
    a.flush(kT0);
    b.flush(kT0);
  }
  void mark(std::uint64_t id) {
    a.mark(id);
    b.mark(id);
  }
};

TEST(HubStream, HeadIsAStreamPositionOnceAMarkIsHeard) {
  Hub hub(options(), 0xaaaa, kJson);
  hub.receive("chat", "1", kT0);
  EXPECT_FALSE(hub.head().stream);
  EXPECT_EQ(format_cursor(hub.head()).substr(0, 2), "1.");
  hub.mark(0x77);
  EXPECT_EQ(format_cursor(hub.head()), "3.0000000000000077.0");
  auto m = hub.receive("chat", "2", kT0);
  EXPECT_EQ(format_cursor(hub.head()), "3.0000000000000077.1");
  // A message's id is the cursor after it.
  EXPECT_NE(m->encoded.find("\"3.0000000000000077.1\""), std::string::npos) << m->encoded;
  EXPECT_EQ(hub.source_of(hub.head()), CursorSource::stream);
}

TEST(HubStream, AnotherGatewaysCursorIsPlacedExactly) {
  TwoGateways g;
  // b subscribed later: it never heard "0", and it numbers differently.
  g.a.receive("chat", "0", kT0);
  g.mark(1);
  g.publish("chat", "1");
  g.publish("other", "x");
  FakeWaiter w;
  auto r = g.a.poll(w, chans({"chat"}), Since{Since::Kind::earliest, {}}, 25s, kT0);
  ASSERT_EQ(r.status, PollStatus::answered);
  EXPECT_EQ(payloads(*r.batch), (std::vector<std::string>{"0", "1"}));
  const Cursor from_a = r.batch->cursor;
  ASSERT_TRUE(from_a.stream);
  g.publish("chat", "2");
  g.publish("chat", "3");
  EXPECT_EQ(g.b.source_of(from_a), CursorSource::stream);
  r = g.b.poll(w, chans({"chat"}), since_cursor(from_a), 25s, kT0);
  ASSERT_EQ(r.status, PollStatus::answered);
  EXPECT_TRUE(r.batch->gaps.empty());
  EXPECT_EQ(payloads(*r.batch), (std::vector<std::string>{"2", "3"}));
  // And back: b's cursor parks on a, and a's next message releases it.
  FakeWaiter v;
  EXPECT_EQ(g.a.poll(v, chans({"chat"}), since_cursor(r.batch->cursor), 25s, kT0).status,
            PollStatus::parked);
  g.publish("chat", "4");
  ASSERT_EQ(v.got.size(), 1u);
  EXPECT_TRUE(v.got[0]->gaps.empty());
  EXPECT_EQ(payloads(*v.got[0]), (std::vector<std::string>{"4"}));
}

TEST(HubStream, APositionNotHeldIsUnplacedAndAnsweredWithAGap) {
  TwoGateways g;
  g.mark(1);
  g.publish("chat", "1");
  // b lost its subscription: a's positions from before the hole are not
  // placed across it, though b has heard marks since.
  g.b.link_down();
  g.a.receive("chat", "lost on b", kT0);
  g.b.link_up();
  g.b.gap_all(kT0);
  const Cursor before = g.a.head();
  g.mark(2);
  g.publish("chat", "3");
  EXPECT_EQ(g.b.source_of(before), CursorSource::unplaced);
  FakeWaiter w;
  auto r = g.b.poll(w, chans({"chat"}), since_cursor(before), 25s, kT0);
  ASSERT_EQ(r.status, PollStatus::answered);
  EXPECT_EQ(r.batch->gaps, (std::vector<std::string>{"chat"}));
  EXPECT_TRUE(r.batch->messages.empty());
  // A position after the hole is placed.
  Cursor after = g.a.head();
  g.publish("chat", "4");
  r = g.b.poll(w, chans({"chat"}), since_cursor(after), 25s, kT0);
  ASSERT_EQ(r.status, PollStatus::answered);
  EXPECT_TRUE(r.batch->gaps.empty());
  EXPECT_EQ(payloads(*r.batch), (std::vector<std::string>{"4"}));
  // Ahead of what b heard (a lagging b): unplaced until it has heard it.
  g.a.receive("chat", "5", kT0);
  EXPECT_EQ(g.b.source_of(g.a.head()), CursorSource::unplaced);
  g.b.receive("chat", "5", kT0);
  EXPECT_EQ(g.b.source_of(g.a.head()), CursorSource::stream);
}

TEST(HubStream, TruncatedAnswersAndSseIdsContinueOnTheOtherGateway) {
  HubOptions o = options();
  o.batch_max_messages = 3;
  Hub a(o, 0xaaaa, kJson), b(o, 0xbbbb, kJson);
  a.mark(9);
  b.mark(9);
  for (int i = 0; i < 8; ++i) {
    const std::string ch = i % 2 ? "x" : "y";
    a.receive(ch, std::to_string(i), kT0);
    b.receive(ch, std::to_string(i), kT0);
  }
  FakeWaiter w;
  Cursor c = a.head();
  c.stream = StreamPos{9, 0};
  std::vector<std::string> got;
  Hub* hubs[] = {&a, &b};
  for (int i = 0; got.size() < 8 && i < 10; ++i) {
    auto r = hubs[i % 2]->poll(w, chans({"x", "y"}), since_cursor(c), 0s, kT0);
    ASSERT_EQ(r.status, PollStatus::answered);
    ASSERT_TRUE(r.batch->gaps.empty());
    for (auto& p : payloads(*r.batch)) got.push_back(p);
    // Each message carries the cursor after it: resuming from the middle
    // one on the other gateway gives what follows it.
    if (r.batch->messages.size() >= 2) {
      EXPECT_EQ(r.batch->messages[1]->stream->after, r.batch->messages[1]->seq);
    }
    c = r.batch->cursor;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7"}));
}

// Polls hop between the gateways at random while both hear one stream,
// with stream reads' seqs and marks between: every message once, in order,
// no gap.
TEST(HubStream, PollsHoppingBetweenGatewaysGetEveryMessageOnce) {
  std::mt19937_64 rng(7);
  TwoGateways g;
  g.mark(rng());
  struct Client {
    Cursor cursor;
    std::vector<std::string> got;
  };
  std::vector<Client> clients(4);
  for (auto& c : clients) c.cursor = g.a.head();
  int n = 0;
  for (int step = 0; step < 3000; ++step) {
    const auto r = rng() % 10;
    if (r == 0) {
      g.mark(rng());
    } else if (r < 6) {
      g.publish(rng() % 2 ? "chat" : "news", std::to_string(n++));
    } else {
      Client& c = clients[rng() % clients.size()];
      Hub& hub = rng() % 2 ? g.a : g.b;
      FakeWaiter w;
      auto res = hub.poll(w, chans({"chat", "news"}), since_cursor(c.cursor), 0s, kT0);
      ASSERT_EQ(res.status, PollStatus::answered);
      ASSERT_TRUE(res.batch->gaps.empty()) << step;
      for (auto& p : payloads(*res.batch)) c.got.push_back(p);
      c.cursor = res.batch->cursor;
    }
  }
  for (auto& c : clients) {
    FakeWaiter w;
    auto res = g.b.poll(w, chans({"chat", "news"}), since_cursor(c.cursor), 0s, kT0);
    for (auto& p : payloads(*res.batch)) c.got.push_back(p);
    ASSERT_EQ(c.got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ASSERT_EQ(c.got[i], std::to_string(i));
  }
}

}  // namespace
}  // namespace comet
