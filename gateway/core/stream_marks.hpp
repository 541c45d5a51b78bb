// Stream marks: one numbering of plain messages that every gateway
// subscribed to the same Redis server computes identically.
//
// One Redis server delivers every PUBLISH to all of its subscribers in one
// order. The gateways publish marks into that stream (each heartbeat is one,
// with a random 64-bit id), and a position in it is (mark, messages after
// it): "every message up to the k-th after mark M". Any gateway that heard
// M and the k messages after it can turn that position into its own seq,
// and its own seqs back into positions, so a cursor made on one gateway is
// placed exactly on another: nothing repeated, nothing skipped.
//
// This table does that translation for one gateway, sans-IO: it is told
// each stream message with the seq the Hub gave it and each mark heard, in
// stream order. Seqs also advance for what is not in the stream (messages a
// stream read brought, a gap), so the table keeps runs of consecutive seqs
// rather than assuming seq == count. A hole in the stream (the
// subscription lost) forgets every mark: a position from before it is not
// placed across it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

namespace comet {

// A position in the stream: every message up to the `after`-th one after
// mark `mark`.
struct StreamPos {
  std::uint64_t mark = 0;
  std::uint64_t after = 0;
  friend bool operator==(const StreamPos&, const StreamPos&) = default;
};

class StreamMarks {
 public:
  // Marks kept: the oldest is forgotten past it (a position naming it then
  // gets a gap). Gateways mark every few seconds each. Runs kept: each
  // stream message that follows seqs outside the stream (a stream read's)
  // starts one; past the bound the oldest marks are forgotten until the
  // runs they needed are gone, so the table stays bounded whatever the
  // mix.
  explicit StreamMarks(std::size_t max_marks = 4096, std::size_t max_runs = 65536)
      : max_marks_(max_marks), max_runs_(max_runs) {}

  // A message of the stream, numbered `seq` by the Hub (larger than any
  // seq given before).
  void message(std::uint64_t seq);
  // Mark `id`, heard after the messages given so far; `seq` is the Hub's
  // newest seq when it came (at least the last message's).
  void mark(std::uint64_t id, std::uint64_t seq);
  // The stream has a hole: every mark is forgotten.
  void reset();

  // The position of a client that has everything up to seq `seq`; none
  // before the first mark kept.
  std::optional<StreamPos> position_at(std::uint64_t seq) const;

  enum class Placed { at, unknown, ahead };
  struct Place {
    Placed status = Placed::unknown;
    std::uint64_t seq = 0;  // with `at`: everything up to it, and nothing after
  };
  // The seq of position `p`: `unknown` when its mark is not kept (never
  // heard here, forgotten, or before a hole), `ahead` when the stream has
  // not brought that many messages after it yet.
  Place seq_of(StreamPos p) const;

  std::size_t marks() const { return marks_.size(); }
  std::size_t runs() const { return runs_.size(); }

 private:
  struct Mark {
    std::uint64_t id;
    std::uint64_t count;  // stream messages before it
    std::uint64_t seq;    // the Hub's newest seq when it came
  };
  // Stream message `count` has seq `seq`, and each after it the next seq,
  // up to the next run.
  struct Run {
    std::uint64_t count;
    std::uint64_t seq;
  };
  // Stream messages with a seq <= `seq`.
  std::uint64_t count_at(std::uint64_t seq) const;
  void forget_oldest();

  std::size_t max_marks_;
  std::size_t max_runs_;
  std::uint64_t count_ = 0;  // stream messages so far
  std::deque<Mark> marks_;   // in stream order
  std::deque<Run> runs_;     // from the oldest mark kept on
  // Mark id -> its index in marks_ plus forgotten_ (an id heard twice
  // names the later one).
  std::unordered_map<std::uint64_t, std::uint64_t> by_id_;
  std::uint64_t forgotten_ = 0;  // marks popped from the front
};

}  // namespace comet
