#include <gtest/gtest.h>

#include <map>

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/core/hub.hpp"
#include "gateway/http/poll_json.hpp"

namespace comet {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kEpoch = 0x1234abcd5678ef90ULL;
// The wire format the gateway answers with: the tests read its bodies.
const PollJson kJson;
// Injected time: far from the clock's epoch, not on a tick boundary.
const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(10) + 3ms);

// Records what the Hub tells it; an optional hook runs inside on_release
// (to re-poll, destroy others, ...).
class FakeWaiter : public Waiter {
 public:
  std::vector<BatchPtr> got;
  std::function<void(FakeWaiter&, const BatchPtr&)> hook;

  const Batch& last() const { return *got.back(); }

 protected:
  void on_release(const BatchPtr& b) override {
    got.push_back(b);
    if (hook) hook(*this, b);
  }
};

std::vector<std::string> chans(std::initializer_list<const char*> names) {
  return std::vector<std::string>(names.begin(), names.end());
}

Since since_cursor(Cursor c) {
  return Since{Since::Kind::cursor, c};
}
Since since_now() {
  return Since{};
}
Since since_earliest() {
  return Since{Since::Kind::earliest, {}};
}

std::vector<std::uint64_t> seqs(const Batch& b) {
  std::vector<std::uint64_t> out;
  for (const auto& m : b.messages) out.push_back(m->seq);
  return out;
}

HubOptions small_options() {
  HubOptions o;
  o.timeout_jitter = 0;
  return o;
}

TEST(HubTest, StartsIdle) {
  Hub hub(HubOptions{}, kEpoch, kJson);
  EXPECT_EQ(hub.epoch(), kEpoch);
  EXPECT_EQ(hub.head(), (Cursor{kEpoch, 0}));
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_EQ(hub.channels(), 0u);
  EXPECT_FALSE(hub.next_wakeup());
}

TEST(HubTest, OccupiedChannelsCountTheirParkedWaiters) {
  Hub hub(small_options(), kEpoch, kJson);
  auto occupied = [&] {
    std::map<std::string, std::size_t> m;
    hub.for_each_occupied([&](std::string_view c, std::size_t n) { m.emplace(c, n); });
    return m;
  };
  const auto now = Clock::time_point{} + std::chrono::hours(1);
  FakeWaiter a, b, c;
  hub.poll(a, chans({"x", "y"}), since_now(), std::chrono::seconds(10), now);
  hub.poll(b, chans({"x"}), since_now(), std::chrono::seconds(10), now);
  hub.poll(c, chans({"z"}), since_now(), std::chrono::seconds(10), now);
  EXPECT_EQ(occupied(), (std::map<std::string, std::size_t>{{"x", 2}, {"y", 1}, {"z", 1}}));
  hub.cancel(c);
  hub.receive("x", "m", now);
  hub.flush(now);  // a and b answered
  EXPECT_TRUE(occupied().empty());
  // A waiter parked again counts once.
  hub.poll(a, chans({"y"}), since_now(), std::chrono::seconds(10), now);
  hub.poll(a, chans({"y"}), since_now(), std::chrono::seconds(10), now);
  EXPECT_EQ(occupied(), (std::map<std::string, std::size_t>{{"y", 1}}));
}

TEST(HubTest, MessageJsonIsEncodedOnce) {
  Hub hub(HubOptions{}, kEpoch, kJson);
  auto m = hub.receive("chat.1", "h\xc3\xa9\"llo\n", kT0);
  EXPECT_EQ(m->seq, 1u);
  EXPECT_EQ(m->channel, "chat.1");
  EXPECT_EQ(m->received, kT0);
  EXPECT_EQ(m->encoded, "{\"channel\":\"chat.1\",\"id\":\"" + format_cursor({kEpoch, 1}) +
                            "\",\"data\":\"h\xc3\xa9\\\"llo\\n\"}");
  auto bin = hub.receive("chat.1", std::string_view("\xff\x00\x01", 3), kT0);
  EXPECT_EQ(bin->encoded, "{\"channel\":\"chat.1\",\"id\":\"" + format_cursor({kEpoch, 2}) +
                              "\",\"data_base64\":\"/wAB\"}");
  EXPECT_EQ(hub.counters().messages_received, 2u);
}

TEST(HubTest, BatchBodyFormat) {
  Hub hub(HubOptions{}, kEpoch, kJson);
  auto m1 = hub.receive("a", "x", kT0);
  auto m2 = hub.receive("a", "y", kT0);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_earliest(), 0s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(*b->body, "{\"cursor\":\"" + format_cursor(hub.head()) + "\",\"messages\":[" +
                          m1->encoded + "," + m2->encoded + "]}");
  auto g = hub.poll(w, chans({"a", "b"}), since_cursor({kEpoch + 1, 5}), 0s, kT0).batch;
  EXPECT_EQ(*g->body, "{\"cursor\":\"" + format_cursor(hub.head()) +
                          "\",\"messages\":[],\"gaps\":[\"a\",\"b\"]}");
}

TEST(HubTest, WithoutSinceOnlyLaterMessages) {
  Hub hub(small_options(), kEpoch, kJson);
  hub.receive("a", "old", kT0);
  FakeWaiter w;
  EXPECT_EQ(hub.poll(w, chans({"a"}), since_now(), 25s, kT0).status, PollStatus::parked);
  EXPECT_TRUE(w.parked());
  EXPECT_EQ(hub.parked(), 1u);
  hub.flush(kT0);  // "old" is dirty, but not after w's position
  EXPECT_TRUE(w.parked());
  EXPECT_TRUE(w.got.empty());
  auto m = hub.receive("a", "new", kT0 + 1s);
  EXPECT_TRUE(w.got.empty());  // publish completes nothing
  EXPECT_EQ(hub.flush(kT0 + 1s), 1u);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(seqs(w.last()), std::vector<std::uint64_t>{m->seq});
  EXPECT_EQ(w.last().cursor, hub.head());
  EXPECT_TRUE(w.last().gaps.empty());
  EXPECT_FALSE(w.parked());
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_EQ(hub.counters().messages_delivered, 1u);
}

TEST(HubTest, EarliestGetsEverythingBufferedWithoutGaps) {
  HubOptions o = small_options();
  o.buffer_max_messages = 2;
  Hub hub(o, kEpoch, kJson);
  hub.receive("a", "1", kT0);
  hub.receive("a", "2", kT0);
  hub.receive("a", "3", kT0);  // drops 1
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_earliest(), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(b->gaps.empty());
  EXPECT_EQ(b->cursor, hub.head());
  // Earliest with nothing buffered parks like a poll without since.
  EXPECT_EQ(hub.poll(w, chans({"b"}), since_earliest(), 25s, kT0).status, PollStatus::parked);
  hub.receive("b", "x", kT0);
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(seqs(w.last()), std::vector<std::uint64_t>{4});
  EXPECT_TRUE(w.last().gaps.empty());
}

TEST(HubTest, ParkedAfterPublishBeforeFlushStaysParked) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter before, after;
  hub.poll(before, chans({"a"}), since_now(), 25s, kT0);
  hub.receive("a", "x", kT0);
  hub.poll(after, chans({"a"}), since_now(), 25s, kT0);
  EXPECT_EQ(hub.flush(kT0), 1u);
  EXPECT_EQ(before.got.size(), 1u);
  EXPECT_TRUE(after.got.empty());
  EXPECT_TRUE(after.parked());
}

// A client that follows the cursors it is given, over 1000 publishes with
// flushes at random points, gets every message of its channels once, in
// order; it re-polls from inside on_release (streams do this).
TEST(HubTest, CursorContinuityAcrossRandomFlushes) {
  HubOptions o = small_options();
  o.buffer_max_messages = 100000;
  o.batch_max_messages = 7;  // to cross truncated batches too
  Hub hub(o, kEpoch, kJson);
  std::mt19937_64 rng(42);
  const std::vector<std::string> all = chans({"a", "b", "c"});
  const std::vector<std::string> mine = chans({"a", "c"});

  std::vector<std::uint64_t> expected, received;
  Cursor cursor = hub.head();
  Clock::time_point now = kT0;
  FakeWaiter w;
  std::function<void(BatchPtr)> consume = [&](BatchPtr b) {
    while (b) {
      EXPECT_TRUE(b->gaps.empty());
      for (const auto& m : b->messages) {
        EXPECT_TRUE(m->channel == "a" || m->channel == "c");
        received.push_back(m->seq);
      }
      cursor = b->cursor;
      b = hub.poll(w, mine, since_cursor(cursor), 25s, now).batch;
    }
  };
  w.hook = [&](FakeWaiter&, const BatchPtr& b) { consume(b); };
  consume(hub.poll(w, mine, since_cursor(cursor), 25s, now).batch);
  for (int i = 0; i < 1000; ++i) {
    now += 1ms;
    const std::string& c = all[rng() % all.size()];
    auto m = hub.receive(c, "m" + std::to_string(i), now);
    if (c != "b") expected.push_back(m->seq);
    if (rng() % 4 == 0) hub.flush(now);
    // Sometimes the client's poll lands between publish and flush.
    if (rng() % 10 == 0 && w.parked()) {
      hub.cancel(w);
      consume(hub.poll(w, mine, since_cursor(cursor), 25s, now).batch);
    }
  }
  hub.flush(now);
  EXPECT_EQ(received, expected);
  EXPECT_EQ(cursor, hub.head());
  EXPECT_TRUE(w.parked());
}

TEST(HubTest, BufferOverrunByCountNamesGapAndDeliversTheRest) {
  HubOptions o = small_options();
  o.buffer_max_messages = 3;
  Hub hub(o, kEpoch, kJson);
  FakeWaiter w;
  const Cursor start = hub.head();
  hub.poll(w, chans({"a", "b"}), since_cursor(start), 25s, kT0);
  for (int i = 0; i < 5; ++i) hub.receive("a", std::to_string(i), kT0);  // burst > buffer
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(w.last().gaps, chans({"a"}));
  EXPECT_EQ(seqs(w.last()), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(w.last().cursor, hub.head());
  EXPECT_EQ(hub.counters().messages_dropped, 2u);
  EXPECT_EQ(hub.counters().gaps, 1u);
  // The same answer for a poll from the same cursor.
  FakeWaiter v;
  auto b = hub.poll(v, chans({"a", "b"}), since_cursor(start), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, chans({"a"}));
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{3, 4, 5}));
  // From a cursor after the drop: no gap.
  b = hub.poll(v, chans({"a"}), since_cursor({kEpoch, 2}), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->gaps.empty());
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST(HubTest, BufferOverrunByBytes) {
  HubOptions o = small_options();
  Hub probe(o, kEpoch, kJson);
  const std::size_t one = probe.receive("a", "0123456789", kT0)->encoded.size();
  o.buffer_max_bytes = 2 * one + one / 2;  // two fit
  Hub hub(o, kEpoch, kJson);
  for (int i = 0; i < 4; ++i) hub.receive("a", "012345678" + std::to_string(i), kT0);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_cursor({kEpoch, 0}), 0s, kT0).batch;
  EXPECT_EQ(b->gaps, chans({"a"}));
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{3, 4}));
  // A message alone over the bound is kept (it has not been delivered).
  o.buffer_max_bytes = 1;
  Hub tiny(o, kEpoch, kJson);
  tiny.receive("a", "x", kT0);
  tiny.receive("a", "y", kT0);
  b = tiny.poll(w, chans({"a"}), since_earliest(), 0s, kT0).batch;
  EXPECT_EQ(seqs(*b), std::vector<std::uint64_t>{2});
}

TEST(HubTest, AgeEvictionAndForgettingChannels) {
  HubOptions o = small_options();
  o.buffer_max_age = 10s;
  Hub hub(o, kEpoch, kJson);
  hub.receive("a", "1", kT0);
  hub.receive("a", "2", kT0 + 4s);
  EXPECT_EQ(hub.channels(), 1u);
  ASSERT_TRUE(hub.next_wakeup());
  EXPECT_EQ(*hub.next_wakeup(), kT0 + 10s);
  hub.expire(kT0 + 9s);
  EXPECT_EQ(hub.counters().messages_dropped, 0u);
  hub.expire(kT0 + 10s);
  EXPECT_EQ(hub.counters().messages_dropped, 1u);
  EXPECT_EQ(*hub.next_wakeup(), kT0 + 14s);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_cursor({kEpoch, 0}), 0s, kT0 + 10s).batch;
  EXPECT_EQ(b->gaps, chans({"a"}));
  EXPECT_EQ(seqs(*b), std::vector<std::uint64_t>{2});
  hub.expire(kT0 + 14s);
  EXPECT_EQ(hub.counters().messages_dropped, 2u);
  EXPECT_EQ(hub.channels(), 0u);  // forgotten: nothing buffered, no waiter
  EXPECT_FALSE(hub.next_wakeup());
  // "a" is unknown now; a cursor before its lost messages still gets a gap.
  b = hub.poll(w, chans({"a"}), since_cursor({kEpoch, 1}), 0s, kT0 + 15s).batch;
  EXPECT_EQ(b->gaps, chans({"a"}));
  b = hub.poll(w, chans({"a"}), since_cursor(hub.head()), 0s, kT0 + 15s).batch;
  EXPECT_TRUE(b->gaps.empty());
  // Coming back on publish, it still remembers conservatively.
  hub.receive("a", "3", kT0 + 16s);
  b = hub.poll(w, chans({"a"}), since_cursor({kEpoch, 1}), 0s, kT0 + 16s).batch;
  EXPECT_EQ(b->gaps, chans({"a"}));
  EXPECT_EQ(seqs(*b), std::vector<std::uint64_t>{3});
}

TEST(HubTest, TimeoutReleasesEmptyBatchWithUsableCursor) {
  HubOptions o = small_options();
  o.tick = 100ms;
  Hub hub(o, kEpoch, kJson);
  FakeWaiter w;
  ASSERT_EQ(hub.poll(w, chans({"a"}), since_now(), 10s, kT0).status, PollStatus::parked);
  hub.receive("b", "elsewhere", kT0 + 1s);
  hub.flush(kT0 + 1s);
  ASSERT_TRUE(hub.next_wakeup());
  const Clock::time_point due = *hub.next_wakeup();
  EXPECT_GE(due, kT0 + 10s);
  EXPECT_LT(due, kT0 + 10s + 100ms);
  hub.expire(due - 1ns);
  EXPECT_TRUE(w.got.empty());
  hub.expire(due);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_TRUE(w.last().messages.empty());
  EXPECT_TRUE(w.last().gaps.empty());
  EXPECT_EQ(w.last().cursor, hub.head());
  EXPECT_EQ(*w.last().body, "{\"cursor\":\"" + format_cursor(hub.head()) + "\",\"messages\":[]}");
  EXPECT_EQ(hub.parked(), 0u);
  // Continuing from it: exactly what came later.
  auto m = hub.receive("a", "x", due + 1s);
  auto b = hub.poll(w, chans({"a"}), since_cursor(w.last().cursor), 10s, due + 1s).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(seqs(*b), std::vector<std::uint64_t>{m->seq});
}

TEST(HubTest, JitterStaysWithinBoundsAndSpreads) {
  HubOptions o;
  o.timeout_jitter = 0.2;
  o.tick = 100ms;
  o.seed = 99;
  Hub hub(o, kEpoch, kJson);
  const auto timeout = 20s;
  std::vector<std::unique_ptr<FakeWaiter>> ws;
  for (int i = 0; i < 1000; ++i) {
    ws.push_back(std::make_unique<FakeWaiter>());
    ASSERT_EQ(hub.poll(*ws.back(), chans({"a"}), since_now(), timeout, kT0).status,
              PollStatus::parked);
  }
  std::set<Clock::time_point> release_times;
  while (auto next = hub.next_wakeup()) {
    const std::size_t before = hub.parked();
    hub.expire(*next);
    if (hub.parked() < before) release_times.insert(*next);
  }
  for (const auto& w : ws) {
    ASSERT_EQ(w->got.size(), 1u);
    EXPECT_TRUE(w->last().messages.empty());
  }
  ASSERT_FALSE(release_times.empty());
  EXPECT_GE(*release_times.begin(), kT0 + timeout * 0.8);
  EXPECT_LT(*release_times.rbegin(), kT0 + timeout + o.tick);
  EXPECT_GT(release_times.size(), 20u);  // 4 s of spread over 100 ms slots
}

TEST(HubTest, TimeoutZeroAnswersAtOnce) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_now(), 0s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->messages.empty());
  EXPECT_EQ(b->cursor, hub.head());
  EXPECT_FALSE(w.parked());
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_TRUE(w.got.empty());
  EXPECT_EQ(hub.channels(), 0u);
}

TEST(HubTest, MultiChannelMergeOrderAndTruncationWithoutLoss) {
  HubOptions o = small_options();
  o.batch_max_messages = 3;
  Hub hub(o, kEpoch, kJson);
  hub.receive("b", "1", kT0);
  hub.receive("a", "2", kT0);
  hub.receive("c", "3", kT0);  // not asked for
  hub.receive("b", "4", kT0);
  hub.receive("a", "5", kT0);
  hub.receive("a", "6", kT0);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"b", "a", "b"}), since_cursor({kEpoch, 0}), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{1, 2, 4}));
  EXPECT_EQ(b->cursor, (Cursor{kEpoch, 4}));  // cut: stops at the last carried
  b = hub.poll(w, chans({"a", "b"}), since_cursor(b->cursor), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(seqs(*b), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(b->cursor, hub.head());
  EXPECT_EQ(hub.poll(w, chans({"a", "b"}), since_cursor(b->cursor), 25s, kT0).status,
            PollStatus::parked);
}

TEST(HubTest, ByteCapIsSoftAndLosesNothing) {
  HubOptions o = small_options();
  o.batch_max_bytes = 1;  // every batch carries exactly one message
  Hub hub(o, kEpoch, kJson);
  for (int i = 0; i < 5; ++i) hub.receive(i % 2 ? "a" : "b", "payload", kT0);
  FakeWaiter w;
  Cursor c{kEpoch, 0};
  std::vector<std::uint64_t> got;
  while (auto b = hub.poll(w, chans({"a", "b"}), since_cursor(c), 25s, kT0).batch) {
    ASSERT_EQ(b->messages.size(), 1u);
    got.push_back(b->messages[0]->seq);
    c = b->cursor;
  }
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(w.parked());
}

TEST(HubTest, FanOutSharesOneBatch) {
  Hub hub(small_options(), kEpoch, kJson);
  std::vector<std::unique_ptr<FakeWaiter>> ws;
  for (int i = 0; i < 10000; ++i) {
    ws.push_back(std::make_unique<FakeWaiter>());
    ASSERT_EQ(hub.poll(*ws.back(), chans({"x"}), since_now(), 25s, kT0).status, PollStatus::parked);
    // Parked at different heads: they must still share.
    if (i % 1000 == 0) hub.receive("other", "noise", kT0);
  }
  hub.flush(kT0);
  EXPECT_EQ(hub.parked(), 10000u);
  hub.receive("x", "hello", kT0 + 1s);
  EXPECT_EQ(hub.flush(kT0 + 1s), 10000u);
  const Batch& first = ws[0]->last();
  std::set<const Batch*> batches;
  std::set<const std::string*> bodies;
  for (const auto& w : ws) {
    ASSERT_EQ(w->got.size(), 1u);
    batches.insert(w->got[0].get());
    bodies.insert(w->got[0]->body.get());
  }
  EXPECT_EQ(batches.size(), 1u);
  EXPECT_EQ(bodies.size(), 1u);
  EXPECT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_EQ(hub.counters().messages_delivered, 10000u);
}

TEST(HubTest, MultiChannelWaiterReleasedOnceAndUnlinkedFromAll) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w, on_a, on_b;
  hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0);
  hub.poll(on_a, chans({"a"}), since_now(), 25s, kT0);
  hub.poll(on_b, chans({"b"}), since_now(), 25s, kT0);
  EXPECT_EQ(hub.parked(), 3u);
  hub.receive("a", "1", kT0);
  hub.receive("b", "2", kT0);
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(seqs(w.last()), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs(on_a.last()), std::vector<std::uint64_t>{1});
  EXPECT_EQ(seqs(on_b.last()), std::vector<std::uint64_t>{2});
  EXPECT_EQ(hub.parked(), 0u);
  hub.receive("a", "3", kT0);
  hub.receive("b", "4", kT0);
  hub.flush(kT0);
  EXPECT_EQ(w.got.size(), 1u);
  EXPECT_EQ(hub.counters().messages_delivered, 4u);
}

TEST(HubTest, MultiChannelWaitersWithSameSetShare) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w1, w2, w3;
  hub.poll(w1, chans({"a", "b"}), since_now(), 25s, kT0);
  hub.poll(w2, chans({"b", "a"}), since_now(), 25s, kT0);
  hub.poll(w3, chans({"a"}), since_now(), 25s, kT0);
  hub.receive("a", "1", kT0);
  hub.flush(kT0);
  EXPECT_EQ(w1.got[0], w2.got[0]);
  EXPECT_EQ(seqs(*w3.got[0]), std::vector<std::uint64_t>{1});
}

TEST(HubTest, CancelAndDestructorUnlink) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w;
  auto d = std::make_unique<FakeWaiter>();
  hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0);
  hub.poll(*d, chans({"a", "c"}), since_now(), 25s, kT0);
  EXPECT_EQ(hub.parked(), 2u);
  hub.cancel(w);
  EXPECT_FALSE(w.parked());
  EXPECT_EQ(hub.parked(), 1u);
  hub.cancel(w);  // no-op
  EXPECT_EQ(hub.parked(), 1u);
  d.reset();
  EXPECT_EQ(hub.parked(), 0u);
  hub.receive("a", "x", kT0);
  hub.flush(kT0);
  EXPECT_TRUE(w.got.empty());
  EXPECT_FALSE(hub.next_wakeup() && hub.parked() > 0);
  hub.expire(kT0 + 1s);
  EXPECT_EQ(hub.channels(), 1u);  // "a" has a message; "b", "c" forgotten
}

TEST(HubTest, GapAllMarksOldCursorsAndParkedWaitersCarryItInTheirNextAnswer) {
  Hub hub(small_options(), kEpoch, kJson);
  hub.receive("a", "1", kT0);
  const Cursor old = hub.head();
  FakeWaiter w, v;
  hub.poll(w, chans({"a", "b"}), since_cursor(old), 25s, kT0);
  hub.poll(v, chans({"b"}), since_cursor(old), 25s, kT0);
  // A flapping link: each resubscription marks old cursors, none answers
  // the parked waiters.
  for (int i = 0; i < 20; ++i) hub.gap_all(kT0);
  EXPECT_TRUE(w.got.empty());
  EXPECT_TRUE(v.got.empty());
  EXPECT_EQ(hub.parked(), 2u);
  // The next message on one of its channels answers w, with the gap on both.
  hub.receive("a", "2", kT0);
  hub.flush(kT0);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(w.last().gaps, chans({"a", "b"}));
  ASSERT_EQ(w.last().messages.size(), 1u);
  EXPECT_EQ(w.last().cursor, hub.head());
  EXPECT_TRUE(v.got.empty());
  // v.s timeout answers it, with its gap.
  ASSERT_TRUE(hub.next_wakeup());
  hub.expire(*hub.next_wakeup());
  ASSERT_EQ(v.got.size(), 1u);
  EXPECT_EQ(v.last().gaps, chans({"b"}));
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_EQ(hub.counters().gaps, 3u);
  // Old cursors name the gap later too, at once; new ones don't.
  auto b = hub.poll(w, chans({"a"}), since_cursor(old), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, chans({"a"}));
  EXPECT_EQ(hub.poll(w, chans({"a"}), since_cursor(b->cursor), 25s, kT0).status,
            PollStatus::parked);
  hub.receive("a", "3", kT0);
  hub.flush(kT0);
  EXPECT_TRUE(w.last().gaps.empty());
  EXPECT_EQ(w.last().messages.size(), 1u);
}

TEST(HubTest, ForeignEpochAnswersGapsAtOnce) {
  Hub hub(small_options(), kEpoch, kJson);
  hub.receive("a", "1", kT0);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"b", "a", "b"}), since_cursor({kEpoch ^ 1, 0}), 25s, kT0).batch;
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->messages.empty());
  EXPECT_EQ(b->gaps, chans({"a", "b"}));
  EXPECT_EQ(b->cursor, hub.head());
  EXPECT_FALSE(w.parked());
}

TEST(HubTest, RejectsFutureCursorAndNoChannels) {
  Hub hub(small_options(), kEpoch, kJson);
  hub.receive("a", "1", kT0);
  FakeWaiter w;
  EXPECT_EQ(hub.poll(w, chans({"a"}), since_cursor({kEpoch, 2}), 25s, kT0).status,
            PollStatus::bad_cursor);
  EXPECT_FALSE(w.parked());
  EXPECT_EQ(hub.poll(w, chans({}), since_now(), 25s, kT0).status, PollStatus::no_channel);
  EXPECT_FALSE(w.parked());
  EXPECT_EQ(hub.poll(w, chans({"a"}), since_cursor({kEpoch, 1}), 25s, kT0).status,
            PollStatus::parked);
  // A refused re-poll leaves the earlier poll parked.
  EXPECT_EQ(hub.poll(w, chans({"a"}), since_cursor({kEpoch, 2}), 25s, kT0).status,
            PollStatus::bad_cursor);
  EXPECT_TRUE(w.parked());
}

TEST(HubTest, RefusesToParkPastMaxWaiters) {
  HubOptions o = small_options();
  o.max_waiters = 1;
  Hub hub(o, kEpoch, kJson);
  FakeWaiter w, v;
  EXPECT_TRUE(hub.can_park());
  hub.poll(w, chans({"a"}), since_now(), 25s, kT0);
  EXPECT_FALSE(hub.can_park());
  const PollResult refused = hub.poll(v, chans({"a"}), since_now(), 25s, kT0);
  EXPECT_EQ(refused.status, PollStatus::full);
  EXPECT_EQ(refused.batch, nullptr);
  EXPECT_FALSE(v.parked());
  // Answers that need no parking are still given.
  const PollResult answered = hub.poll(v, chans({"a"}), since_now(), 0s, kT0);
  EXPECT_EQ(answered.status, PollStatus::answered);
  EXPECT_TRUE(answered.batch);
}

TEST(HubTest, RefusesToParkOnNewChannelsPastMaxChannels) {
  HubOptions o = small_options();
  o.max_channels = 3;
  Hub hub(o, kEpoch, kJson);
  FakeWaiter w, v, u;
  ASSERT_EQ(hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0).status, PollStatus::parked);
  EXPECT_EQ(hub.poll(v, chans({"c", "d"}), since_now(), 25s, kT0).status,
            PollStatus::channels_full);
  EXPECT_FALSE(v.parked());
  // Channels held already cost nothing more; one new one still fits.
  EXPECT_EQ(hub.poll(v, chans({"a", "c"}), since_now(), 25s, kT0).status, PollStatus::parked);
  EXPECT_EQ(hub.channels(), 3u);
  EXPECT_EQ(hub.poll(u, chans({"d"}), since_now(), 25s, kT0).status, PollStatus::channels_full);
  // An answer that needs no parking is given; messages make channels still.
  EXPECT_EQ(hub.poll(u, chans({"d"}), since_now(), 0s, kT0).status, PollStatus::answered);
  hub.receive("e", "published", kT0);
  EXPECT_EQ(hub.channels(), 4u);
}

TEST(HubTest, BufferedBytesInAllChannelsAreBounded) {
  HubOptions o = small_options();
  Hub probe(o, kEpoch, kJson);
  probe.receive("a", "0123456789", kT0);
  const std::size_t one = probe.buffered_bytes();  // one encoded message
  o.max_buffered_bytes = 5 * one;
  Hub hub(o, kEpoch, kJson);
  hub.receive("a", "0123456789", kT0);
  const Cursor before_all = Cursor{kEpoch, 0};
  hub.receive("a", "0123456789", kT0 + 1s);
  hub.receive("a", "0123456789", kT0 + 2s);
  hub.receive("b", "0123456789", kT0 + 3s);
  hub.receive("b", "0123456789", kT0 + 4s);
  EXPECT_EQ(hub.buffered_bytes(), 5 * one);
  EXPECT_EQ(hub.counters().messages_dropped, 0u);
  // Past the total: the channel holding the oldest messages gives them up.
  hub.receive("c", "0123456789", kT0 + 5s);
  EXPECT_LE(hub.buffered_bytes(), 5 * one);
  EXPECT_EQ(hub.counters().messages_dropped, 1u);
  FakeWaiter w;
  auto b = hub.poll(w, chans({"a"}), since_cursor(before_all), 0s, kT0 + 5s).batch;
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gaps, chans({"a"}));  // what was dropped is named
  EXPECT_EQ(b->messages.size(), 2u);
  // Each channel keeps its newest message, whatever the total.
  for (int i = 0; i < 10; ++i) hub.receive("d" + std::to_string(i), "0123456789", kT0 + 6s);
  for (int i = 0; i < 10; ++i) {
    auto kept = hub.poll(w, chans({("d" + std::to_string(i)).c_str()}), since_cursor(before_all),
                         0s, kT0 + 6s)
                    .batch;
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->messages.size(), 1u) << i;
  }
}

TEST(HubTest, AThrowingCallbackDoesNotEndTheReleasePass) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w1, w2, w3;
  for (FakeWaiter* w : {&w1, &w2, &w3}) hub.poll(*w, chans({"a"}), since_now(), 25s, kT0);
  w2.hook = [](FakeWaiter&, const BatchPtr&) { throw std::runtime_error("write failed"); };
  // w3 is still pending in the pass when w2 throws: it is answered all the
  // same, and the failure reaches the caller afterwards.
  w1.hook = [&](FakeWaiter&, const BatchPtr&) { EXPECT_FALSE(w3.got.size()); };
  hub.receive("a", "m", kT0);
  EXPECT_THROW(hub.flush(kT0), std::runtime_error);
  for (FakeWaiter* w : {&w1, &w2, &w3}) {
    ASSERT_EQ(w->got.size(), 1u);
    EXPECT_EQ(w->last().messages.size(), 1u);
    EXPECT_FALSE(w->parked());
  }
  EXPECT_EQ(hub.parked(), 0u);
  // The Hub is still sound: the next poll parks and is released.
  w2.hook = nullptr;
  hub.poll(w2, chans({"a"}), since_cursor(w2.last().cursor), 25s, kT0);
  hub.receive("a", "n", kT0);
  hub.flush(kT0);
  EXPECT_EQ(w2.got.size(), 2u);
}

TEST(HubTest, RepollFromInsideFlushReparks) {
  Hub hub(small_options(), kEpoch, kJson);
  FakeWaiter w;
  std::vector<std::string> c = chans({"a"});
  w.hook = [&](FakeWaiter& self, const BatchPtr& b) {
    EXPECT_FALSE(self.parked());
    EXPECT_EQ(hub.poll(self, c, since_cursor(b->cursor), 25s, kT0).status, PollStatus::parked);
  };
  hub.poll(w, c, since_now(), 25s, kT0);
  hub.receive("a", "1", kT0);
  hub.flush(kT0);
  EXPECT_EQ(w.got.size(), 1u);
  EXPECT_TRUE(w.parked());
  EXPECT_EQ(hub.parked(), 1u);
  hub.receive("a", "2", kT0);
  hub.flush(kT0);
  EXPECT_EQ(w.got.size(), 2u);
  EXPECT_EQ(seqs(w.last()), std::vector<std::uint64_t>{2});
}

TEST(HubTest, OnReleaseMayDestroyOrCancelOthersStillPending) {
  Hub hub(small_options(), kEpoch, kJson);
  auto victim = std::make_unique<FakeWaiter>();
  FakeWaiter cancelled;
  FakeWaiter killer;
  hub.poll(killer, chans({"a"}), since_now(), 25s, kT0);
  hub.poll(*victim, chans({"a"}), since_now(), 25s, kT0);
  hub.poll(cancelled, chans({"a"}), since_now(), 25s, kT0);
  killer.hook = [&](FakeWaiter&, const BatchPtr&) {
    victim.reset();
    hub.cancel(cancelled);
  };
  hub.receive("a", "1", kT0);
  hub.flush(kT0);
  EXPECT_EQ(killer.got.size(), 1u);
  EXPECT_FALSE(victim);
  EXPECT_TRUE(cancelled.got.empty());
  EXPECT_FALSE(cancelled.parked());
  EXPECT_EQ(hub.parked(), 0u);
  EXPECT_EQ(hub.counters().messages_delivered, 1u);
}

TEST(HubTest, ReleaseAllAnswersEveryoneEmpty) {
  Hub hub(small_options(), kEpoch, kJson);
  std::vector<std::unique_ptr<FakeWaiter>> ws;
  for (int i = 0; i < 5; ++i) {
    ws.push_back(std::make_unique<FakeWaiter>());
    hub.poll(*ws.back(), chans({i % 2 ? "a" : "b", "c"}), since_now(), 25s, kT0);
  }
  hub.release_all();
  for (const auto& w : ws) {
    ASSERT_EQ(w->got.size(), 1u);
    EXPECT_TRUE(w->last().messages.empty());
    EXPECT_TRUE(w->last().gaps.empty());
    EXPECT_EQ(w->last().cursor, hub.head());
    EXPECT_EQ(w->got[0], ws[0]->got[0]);  // one shared empty answer
  }
  EXPECT_EQ(hub.parked(), 0u);
  hub.expire(kT0);
  EXPECT_EQ(hub.channels(), 0u);
  EXPECT_FALSE(hub.next_wakeup());
}

TEST(HubTest, ChannelsCountsWaitersOrBufferedAndIdleSleeps) {
  HubOptions o = small_options();
  o.buffer_max_age = 1min;
  Hub hub(o, kEpoch, kJson);
  FakeWaiter w;
  hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0);
  EXPECT_EQ(hub.channels(), 2u);
  hub.receive("c", "x", kT0);
  EXPECT_EQ(hub.channels(), 3u);
  hub.cancel(w);
  EXPECT_EQ(hub.channels(), 1u);
  // Asks for one pass to forget "a" and "b", then for the age-out of "c".
  ASSERT_TRUE(hub.next_wakeup());
  EXPECT_EQ(*hub.next_wakeup(), kT0);
  hub.expire(kT0);
  ASSERT_TRUE(hub.next_wakeup());
  EXPECT_EQ(*hub.next_wakeup(), kT0 + 1min);
  hub.flush(kT0);
  hub.expire(kT0 + 1min);
  EXPECT_EQ(hub.channels(), 0u);
  EXPECT_FALSE(hub.next_wakeup());
}

TEST(HubTest, DestroyingTheHubDetachesWaiters) {
  FakeWaiter w;
  {
    Hub hub(small_options(), kEpoch, kJson);
    hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0);
  }
  EXPECT_FALSE(w.parked());
  EXPECT_TRUE(w.got.empty());
}

TEST(HubTest, AWaiterDetachedByADestroyedHubParksInAnother) {
  // Its nodes were unlinked, not left pointing into the destroyed queues.
  FakeWaiter w;
  {
    Hub hub(small_options(), kEpoch, kJson);
    hub.poll(w, chans({"a", "b"}), since_now(), 25s, kT0);
  }
  Hub hub(small_options(), kEpoch, kJson);
  EXPECT_EQ(hub.poll(w, chans({"b", "c"}), since_now(), 25s, kT0).status, PollStatus::parked);
  hub.receive("c", "1", kT0);
  EXPECT_EQ(hub.flush(kT0), 1u);
  ASSERT_EQ(w.got.size(), 1u);
  EXPECT_EQ(seqs(w.last()), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(hub.parked(), 0u);
}

}  // namespace
}  // namespace comet
