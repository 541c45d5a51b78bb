#include "gateway/core/stream_marks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace comet {
namespace {

using Placed = StreamMarks::Placed;

TEST(StreamMarks, NothingBeforeTheFirstMark) {
  StreamMarks m;
  m.message(1);
  m.message(2);
  EXPECT_FALSE(m.position_at(2));
  EXPECT_EQ(m.seq_of(StreamPos{7, 0}).status, Placed::unknown);
  m.mark(7, 2);
  EXPECT_FALSE(m.position_at(1));  // before the mark: not a stream position
  EXPECT_EQ(m.position_at(2), (StreamPos{7, 0}));
  EXPECT_EQ(m.seq_of(StreamPos{7, 0}).seq, 2u);
  EXPECT_EQ(m.seq_of(StreamPos{7, 1}).status, Placed::ahead);
  m.message(3);
  EXPECT_EQ(m.position_at(3), (StreamPos{7, 1}));
  auto p = m.seq_of(StreamPos{7, 1});
  EXPECT_EQ(p.status, Placed::at);
  EXPECT_EQ(p.seq, 3u);
}

TEST(StreamMarks, SeqsOutsideTheStreamMoveNoPosition) {
  // Seqs 11 and 12 are not stream messages (a stream read's, a gap): a
  // client at 12 has the same stream messages as one at 10.
  StreamMarks m;
  m.mark(5, 9);
  m.message(10);
  m.message(13);
  m.message(14);
  EXPECT_EQ(m.position_at(10), (StreamPos{5, 1}));
  EXPECT_EQ(m.position_at(11), (StreamPos{5, 1}));
  EXPECT_EQ(m.position_at(12), (StreamPos{5, 1}));
  EXPECT_EQ(m.position_at(13), (StreamPos{5, 2}));
  EXPECT_EQ(m.position_at(14), (StreamPos{5, 3}));
  EXPECT_EQ(m.seq_of(StreamPos{5, 1}).seq, 10u);
  EXPECT_EQ(m.seq_of(StreamPos{5, 2}).seq, 13u);
  EXPECT_EQ(m.seq_of(StreamPos{5, 3}).seq, 14u);
  EXPECT_EQ(m.seq_of(StreamPos{5, 4}).status, Placed::ahead);
}

TEST(StreamMarks, ResetForgetsEveryMark) {
  StreamMarks m;
  m.mark(1, 0);
  m.message(1);
  m.reset();
  EXPECT_EQ(m.seq_of(StreamPos{1, 1}).status, Placed::unknown);
  EXPECT_FALSE(m.position_at(1));
  m.message(2);
  m.mark(2, 2);
  m.message(3);
  EXPECT_EQ(m.position_at(3), (StreamPos{2, 1}));
  EXPECT_EQ(m.seq_of(StreamPos{2, 1}).seq, 3u);
}

TEST(StreamMarks, TheOldestMarkIsForgottenPastTheBound) {
  StreamMarks m(3);
  std::uint64_t seq = 0;
  for (std::uint64_t id = 1; id <= 5; ++id) {
    m.mark(id, seq);
    m.message(++seq);
    seq += 2;  // seqs outside the stream between
  }
  EXPECT_EQ(m.marks(), 3u);
  EXPECT_EQ(m.seq_of(StreamPos{2, 0}).status, Placed::unknown);
  EXPECT_EQ(m.seq_of(StreamPos{3, 1}).seq, 7u);
  EXPECT_EQ(m.seq_of(StreamPos{5, 1}).seq, 13u);
  EXPECT_EQ(m.position_at(12), (StreamPos{5, 0}));
}

TEST(StreamMarks, RunsAreBoundedByForgettingTheOldestMarks) {
  StreamMarks m(100, 8);
  std::uint64_t seq = 0;
  for (std::uint64_t id = 1; id <= 20; ++id) {
    m.mark(id, seq);
    seq += 2;  // a seq outside the stream before each message: a run each
    m.message(seq);
  }
  EXPECT_LE(m.runs(), 8u);
  EXPECT_LT(m.marks(), 20u);
  EXPECT_GT(m.marks(), 0u);
  // What is kept still places exactly.
  EXPECT_EQ(m.seq_of(StreamPos{20, 1}).seq, seq);
  EXPECT_EQ(m.seq_of(StreamPos{19, 1}).seq, seq - 2);
  EXPECT_EQ(m.seq_of(StreamPos{1, 1}).status, Placed::unknown);
}

TEST(StreamMarks, AnIdHeardTwiceNamesTheLaterMark) {
  StreamMarks m;
  m.mark(9, 0);
  m.message(1);
  m.mark(9, 1);
  m.message(2);
  EXPECT_EQ(m.seq_of(StreamPos{9, 1}).seq, 2u);
}

// Two gateways hear one stream (the same messages and marks in the same
// order) but number it differently: other seqs between (stream reads,
// gaps), marks heard from different starts. Every position one gives out
// is placed by the other at exactly the same stream message.
TEST(StreamMarks, TwoNumberingsOfOneStreamAgree) {
  std::mt19937_64 rng(42);
  StreamMarks a, b;
  std::uint64_t seq_a = 0, seq_b = 0;
  std::vector<std::uint64_t> a_of, b_of;                    // stream message n -> its seq in each
  std::vector<std::pair<StreamPos, std::uint64_t>> issued;  // by a: position, messages had
  std::uint64_t count = 0;
  for (int step = 0; step < 5000; ++step) {
    const auto r = rng() % 100;
    if (r < 3) {
      const std::uint64_t id = rng();
      a.mark(id, seq_a);
      b.mark(id, seq_b);
    } else if (r < 10) {
      seq_a += 1 + rng() % 3;  // not in the stream
    } else if (r < 15) {
      seq_b += 1 + rng() % 3;
    } else {
      ++count;
      a.message(++seq_a);
      b.message(++seq_b);
      a_of.push_back(seq_a);
      b_of.push_back(seq_b);
    }
    if (auto p = a.position_at(seq_a)) issued.emplace_back(*p, count);
  }
  ASSERT_GT(issued.size(), 1000u);
  for (const auto& [p, had] : issued) {
    auto placed = b.seq_of(p);
    ASSERT_EQ(placed.status, Placed::at);
    // b's seq is at or past its copy of message `had`, and before the next.
    if (had > 0) EXPECT_GE(placed.seq, b_of[had - 1]);
    if (had < b_of.size()) EXPECT_LT(placed.seq, b_of[had]);
    // And back: b's position there is placed by a where a gave it out.
    auto back = a.seq_of(*b.position_at(placed.seq));
    ASSERT_EQ(back.status, Placed::at);
    if (had > 0) EXPECT_GE(back.seq, a_of[had - 1]);
    if (had < a_of.size()) EXPECT_LT(back.seq, a_of[had]);
  }
}

}  // namespace
}  // namespace comet
