// Deadlines of parked waiters in a hashed timing wheel: slots of width
// `tick`, each an intrusive list. Parking and unparking are O(1) and cost no
// timer and no allocation per waiter; the event loop runs one timer, at
// next_due(). A node is due at the first slot boundary at or after its
// deadline (never early, at most one tick late). Deadlines further away than
// one turn of the wheel stay in their slot for later turns (each node keeps
// its absolute tick), so any timeout works.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/core/clock.hpp"
#include "gateway/core/detail/wait_links.hpp"

namespace comet::detail {

class DeadlineWheel {
 public:
  // 1024 slots of 100 ms cover 102 s per turn: more than any poll timeout
  // behind nginx's 60 s read timeout, so later turns are the exception.
  static constexpr std::size_t kSlots = 1024;

  explicit DeadlineWheel(Clock::duration tick);
  DeadlineWheel(const DeadlineWheel&) = delete;
  DeadlineWheel& operator=(const DeadlineWheel&) = delete;

  void insert(DeadlineNode& n, Clock::time_point deadline, Clock::time_point now);
  // O(1); a no-op when `n` is not linked.
  void erase(DeadlineNode& n);
  // Unlinks every node due at `now` and appends it to `out`.
  void expire(Clock::time_point now, std::vector<DeadlineNode*>& out);
  // Unlinks every node (shutdown, gap_all) and appends it to `out`.
  void drain(std::vector<DeadlineNode*>& out);
  // The earliest slot boundary with a node in it; nullopt when empty. May be
  // early when that slot only holds nodes of a later turn (a spurious
  // wake-up, once per turn at most), never late.
  std::optional<Clock::time_point> next_due() const;

  std::size_t size() const { return size_; }
  Clock::duration tick() const { return Clock::duration(tick_); }

 private:
  static constexpr std::size_t kWords = kSlots / 64;
  static_assert(kSlots % 64 == 0 && (kSlots & (kSlots - 1)) == 0);

  std::int64_t floor_tick(Clock::time_point t) const;
  std::int64_t ceil_tick(Clock::time_point t) const;
  static std::size_t slot_of(std::int64_t tick) {
    // Two's complement makes this a true modulo for negative ticks too.
    return static_cast<std::size_t>(static_cast<std::uint64_t>(tick) & (kSlots - 1));
  }
  void unlink_counted(DeadlineNode& n);

  std::int64_t tick_;  // in Clock::duration units, > 0
  std::unique_ptr<DeadlineSlot[]> slots_;
  // One bit per non-empty slot: next_due() scans 16 words, not 1024 lists.
  std::array<std::uint64_t, kWords> occupied_{};
  std::size_t size_ = 0;
  // Every tick <= processed_ has been expired.
  std::int64_t processed_ = 0;
};

}  // namespace comet::detail
