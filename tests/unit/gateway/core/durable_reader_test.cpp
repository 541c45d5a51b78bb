#include <gtest/gtest.h>

#include <vector>

#include "gateway/core/durable_reader.hpp"

using namespace std::chrono_literals;

namespace comet {
namespace {

const Clock::time_point kNow = Clock::time_point(std::chrono::hours(1));

struct FakeRedis {
  bool up = true;
  std::vector<std::pair<ReadNeed, DurableReader::Reply>> sent;
  DurableReader::Send send() {
    return [this](const ReadNeed& need, std::size_t, DurableReader::Reply reply) {
      if (!up) return false;
      sent.emplace_back(need, std::move(reply));
      return true;
    };
  }
  void answer(std::size_t i, std::optional<StreamRead> r) {
    auto reply = std::move(sent[i].second);
    reply(std::move(r));
  }
};

StreamRead empty_read(StreamId from) {
  StreamRead r;
  r.from = r.base = from;
  return r;
}

TEST(DurableReaderTest, IdenticalReadsAreSentOnceAndAnswerEveryone) {
  FakeRedis redis;
  DurableReader reader({}, redis.send());
  int answered = 0;
  auto done = [&](const DurableReader::Result& r) {
    EXPECT_TRUE(r);
    ++answered;
  };
  ASSERT_TRUE(reader.read({"a", {1, 0}}, done, kNow));
  ASSERT_TRUE(reader.read({"a", {1, 0}}, done, kNow));
  ASSERT_TRUE(reader.read({"a", {2, 0}}, done, kNow));
  EXPECT_EQ(redis.sent.size(), 2u);
  EXPECT_TRUE(reader.pending({"a", {1, 0}}));
  redis.answer(0, empty_read({1, 0}));
  EXPECT_EQ(answered, 2);
  EXPECT_FALSE(reader.pending({"a", {1, 0}}));
  redis.answer(1, empty_read({2, 0}));
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(reader.in_flight(), 0u);
}

TEST(DurableReaderTest, BoundsReadsInFlightAndQueuesTheRest) {
  FakeRedis redis;
  DurableReaderOptions o;
  o.max_in_flight = 2;
  o.max_reads = 3;
  DurableReader reader(o, redis.send());
  int answered = 0;
  auto done = [&](const DurableReader::Result&) { ++answered; };
  EXPECT_TRUE(reader.read({"a", {}}, done, kNow));
  EXPECT_TRUE(reader.read({"b", {}}, done, kNow));
  EXPECT_TRUE(reader.read({"c", {}}, done, kNow));   // queued
  EXPECT_FALSE(reader.read({"d", {}}, done, kNow));  // refused: the poll reports a gap
  EXPECT_TRUE(reader.read({"c", {}}, done, kNow));   // joins the queued one
  EXPECT_EQ(redis.sent.size(), 2u);
  EXPECT_EQ(reader.queued(), 1u);
  EXPECT_EQ(reader.reads(), 3u);
  redis.answer(0, std::nullopt);  // a failure frees a slot too
  ASSERT_EQ(redis.sent.size(), 3u);
  EXPECT_EQ(redis.sent[2].first.channel, "c");
  redis.answer(1, std::nullopt);
  redis.answer(2, std::nullopt);
  EXPECT_EQ(answered, 4);
}

TEST(DurableReaderTest, ReadsWaitForRedisThenFailInBoundedTime) {
  FakeRedis redis;
  redis.up = false;  // e.g. just started: the command connection is not up yet
  DurableReaderOptions o;
  o.wait_for_redis = 2s;
  DurableReader reader(o, redis.send());
  std::vector<bool> results;
  auto done = [&](const DurableReader::Result& r) { results.push_back(r.has_value()); };
  EXPECT_TRUE(reader.read({"a", {}}, done, kNow));
  EXPECT_TRUE(reader.read({"b", {}}, done, kNow + 1s));
  EXPECT_TRUE(redis.sent.empty());
  EXPECT_EQ(reader.next_expiry(), kNow + 2s);
  reader.expire(kNow + 2s);  // "a" waited long enough: fails (a gap, not a hang)
  EXPECT_EQ(results, (std::vector<bool>{false}));
  redis.up = true;
  reader.resume();  // the command connection is up: "b" goes
  ASSERT_EQ(redis.sent.size(), 1u);
  EXPECT_EQ(redis.sent[0].first.channel, "b");
  redis.answer(0, empty_read({}));
  EXPECT_EQ(results, (std::vector<bool>{false, true}));
  EXPECT_FALSE(reader.next_expiry());
}

TEST(DurableReaderTest, FailAllAnswersEveryoneAndIgnoresLateReplies) {
  FakeRedis redis;
  DurableReader reader({}, redis.send());
  int failed = 0;
  ASSERT_TRUE(reader.read(
      {"a", {}}, [&](const DurableReader::Result& r) { failed += !r; }, kNow));
  reader.fail_all();
  EXPECT_EQ(failed, 1);
  // Asked again: a new read; the old reply must not answer it.
  int second = 0;
  ASSERT_TRUE(reader.read(
      {"a", {}}, [&](const DurableReader::Result&) { ++second; }, kNow));
  redis.answer(0, empty_read({}));
  EXPECT_EQ(second, 0);
  redis.answer(1, empty_read({}));
  EXPECT_EQ(second, 1);
}

TEST(DurableReaderTest, BudgetCountsReadsInFlightAndQueuedInAll) {
  FakeRedis redis;
  DurableReaderOptions o;
  o.max_in_flight = 1;
  o.max_reads = 2;
  DurableReader reader(o, redis.send());
  auto done = [](const DurableReader::Result&) {};
  EXPECT_TRUE(reader.read({"a", {1, 0}}, done, kNow));  // sent
  EXPECT_TRUE(reader.read({"a", {2, 0}}, done, kNow));  // queued
  EXPECT_FALSE(reader.has_room());
  EXPECT_FALSE(reader.read({"a", {3, 0}}, done, kNow));  // another id: no dedup, no room
  EXPECT_TRUE(reader.read({"a", {2, 0}}, done, kNow));   // joining costs nothing
  EXPECT_EQ(redis.sent.size(), 1u);
  redis.answer(0, empty_read({1, 0}));
  EXPECT_TRUE(reader.has_room());
  EXPECT_EQ(reader.reads(), 1u);
}

TEST(DurableReaderTest, BudgetCountsBytesReservedByReadsAndHeldByAnswers) {
  FakeRedis redis;
  DurableReaderOptions o;
  o.max_reads = 4;
  o.max_bytes = 4000;  // each read not answered reserves 1000
  DurableReader reader(o, redis.send());
  auto done = [](const DurableReader::Result&) {};
  for (std::uint64_t i = 1; i <= 3; ++i) EXPECT_TRUE(reader.read({"a", {i, 0}}, done, kNow));
  EXPECT_EQ(reader.bytes(), 3000u);
  redis.answer(0, empty_read({1, 0}));
  EXPECT_EQ(reader.bytes(), 2000u);
  // A poll keeps a big answer: no room for a new read until it lets go.
  reader.hold(1500);
  EXPECT_EQ(reader.bytes(), 3500u);
  EXPECT_FALSE(reader.has_room());
  EXPECT_FALSE(reader.read({"b", {}}, done, kNow));
  reader.release(1500);
  EXPECT_TRUE(reader.read({"b", {}}, done, kNow));
  // One answer alone bigger than the whole budget: nothing new meanwhile.
  reader.hold(10'000);
  EXPECT_FALSE(reader.has_room());
  reader.release(10'000);
  EXPECT_EQ(reader.bytes(), 3000u);
}

}  // namespace
}  // namespace comet
