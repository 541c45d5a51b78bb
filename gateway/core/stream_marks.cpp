#include "gateway/core/stream_marks.hpp"

#include <algorithm>

namespace comet {

void StreamMarks::message(std::uint64_t seq) {
  ++count_;
  // Before the first mark no position can name this message: nothing to keep.
  if (marks_.empty()) return;
  if (runs_.empty() || runs_.back().seq + (count_ - runs_.back().count) != seq) {
    runs_.push_back(Run{count_, seq});
    while (runs_.size() > max_runs_ && !marks_.empty()) forget_oldest();
  }
}

void StreamMarks::mark(std::uint64_t id, std::uint64_t seq) {
  marks_.push_back(Mark{id, count_, seq});
  by_id_[id] = forgotten_ + marks_.size() - 1;
  if (marks_.size() > max_marks_) forget_oldest();
}

void StreamMarks::reset() {
  forgotten_ += marks_.size();
  marks_.clear();
  runs_.clear();
  by_id_.clear();
}

void StreamMarks::forget_oldest() {
  const Mark& m = marks_.front();
  if (auto it = by_id_.find(m.id); it != by_id_.end() && it->second == forgotten_) by_id_.erase(it);
  marks_.pop_front();
  ++forgotten_;
  if (marks_.empty()) {
    runs_.clear();
    return;
  }
  // A run that ends before the oldest mark kept places nothing any more:
  // the next run starts at or before that mark, so no seq from the mark on
  // falls in it.
  const std::uint64_t oldest = marks_.front().count;
  while (runs_.size() >= 2 && runs_[1].count <= oldest) runs_.pop_front();
}

std::uint64_t StreamMarks::count_at(std::uint64_t seq) const {
  auto after = std::upper_bound(runs_.begin(), runs_.end(), seq,
                                [](std::uint64_t s, const Run& r) { return s < r.seq; });
  if (after == runs_.begin()) return 0;
  const Run& r = *std::prev(after);
  const std::uint64_t last = after == runs_.end() ? count_ : after->count - 1;
  return std::min(r.count + (seq - r.seq), last);
}

std::optional<StreamPos> StreamMarks::position_at(std::uint64_t seq) const {
  auto after = std::upper_bound(marks_.begin(), marks_.end(), seq,
                                [](std::uint64_t s, const Mark& m) { return s < m.seq; });
  if (after == marks_.begin()) return std::nullopt;
  const Mark& m = *std::prev(after);
  return StreamPos{m.id, std::max(count_at(seq), m.count) - m.count};
}

StreamMarks::Place StreamMarks::seq_of(StreamPos p) const {
  auto it = by_id_.find(p.mark);
  if (it == by_id_.end()) return {};
  const Mark& m = marks_[it->second - forgotten_];
  if (p.after > count_ - m.count) return {Placed::ahead, 0};
  if (p.after == 0) return {Placed::at, m.seq};
  // Stream message m.count + after: in the last run that starts at or
  // before it (runs are kept from the oldest mark's on).
  const std::uint64_t n = m.count + p.after;
  auto after = std::upper_bound(runs_.begin(), runs_.end(), n,
                                [](std::uint64_t c, const Run& r) { return c < r.count; });
  if (after == runs_.begin()) return {};
  const Run& r = *std::prev(after);
  return {Placed::at, r.seq + (n - r.count)};
}

}  // namespace comet
