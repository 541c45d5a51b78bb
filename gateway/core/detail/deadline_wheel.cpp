#include "gateway/core/detail/deadline_wheel.hpp"

#include <algorithm>
#include <bit>

namespace comet::detail {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

DeadlineWheel::DeadlineWheel(Clock::duration tick)
    : tick_(std::max<std::int64_t>(tick.count(), 1)), slots_(new DeadlineSlot[kSlots]) {}

std::int64_t DeadlineWheel::floor_tick(Clock::time_point t) const {
  return floor_div(t.time_since_epoch().count(), tick_);
}

std::int64_t DeadlineWheel::ceil_tick(Clock::time_point t) const {
  const std::int64_t f = floor_tick(t);
  return f * tick_ == t.time_since_epoch().count() ? f : f + 1;
}

void DeadlineWheel::insert(DeadlineNode& n, Clock::time_point deadline, Clock::time_point now) {
  erase(n);
  // An empty wheel has nothing to catch up on: restart from `now`, so that
  // the first expire() after a long idle period scans nothing.
  if (size_ == 0) processed_ = floor_tick(now);
  // Never into a slot already expired: it would not be looked at again
  // before a full turn.
  n.due_tick = std::max(ceil_tick(deadline), processed_ + 1);
  const std::size_t s = slot_of(n.due_tick);
  slots_[s].push_back(n);
  occupied_[s / 64] |= std::uint64_t{1} << (s % 64);
  ++size_;
}

void DeadlineWheel::unlink_counted(DeadlineNode& n) {
  --size_;
  const std::size_t s = slot_of(n.due_tick);
  DeadlineSlot& slot = slots_[s];
  // Known to be linked (into this slot): erase() skips the check unlink()
  // makes.
  slot.erase(slot.iterator_to(n));
  if (is_empty(slot)) occupied_[s / 64] &= ~(std::uint64_t{1} << (s % 64));
}

void DeadlineWheel::erase(DeadlineNode& n) {
  if (n.is_linked()) unlink_counted(n);
}

void DeadlineWheel::expire(Clock::time_point now, std::vector<DeadlineNode*>& out) {
  const std::int64_t now_tick = floor_tick(now);
  if (size_ == 0) {
    processed_ = std::max(processed_, now_tick);
    return;
  }
  if (now_tick <= processed_) return;
  // Past one turn, every slot has been passed once: scan each once.
  const std::int64_t steps =
      std::min<std::int64_t>(now_tick - processed_, static_cast<std::int64_t>(kSlots));
  for (std::int64_t t = processed_ + 1; t <= processed_ + steps; ++t) {
    const std::size_t s = slot_of(t);
    if ((occupied_[s / 64] & (std::uint64_t{1} << (s % 64))) == 0) continue;
    DeadlineSlot& slot = slots_[s];
    for (auto it = slot.begin(); it != slot.end();) {
      DeadlineNode& n = *it++;       // before n is unlinked
      if (n.due_tick <= now_tick) {  // else: a later turn
        unlink_counted(n);
        out.push_back(&n);
      }
    }
  }
  processed_ = now_tick;
}

void DeadlineWheel::drain(std::vector<DeadlineNode*>& out) {
  for (std::size_t s = 0; s < kSlots && size_ > 0; ++s) {
    DeadlineSlot& slot = slots_[s];
    while (!is_empty(slot)) {
      DeadlineNode& n = slot.front();
      unlink_counted(n);
      out.push_back(&n);
    }
  }
}

std::optional<Clock::time_point> DeadlineWheel::next_due() const {
  if (size_ == 0) return std::nullopt;
  const std::int64_t start_tick = processed_ + 1;
  const std::size_t start = slot_of(start_tick);
  // Scan the bitmap cyclically from `start`; the distance in slots is the
  // distance in ticks.
  for (std::size_t k = 0; k <= kWords; ++k) {
    const std::size_t w = (start / 64 + k) % kWords;
    std::uint64_t bits = occupied_[w];
    if (k == 0) bits &= ~std::uint64_t{0} << (start % 64);
    if (k == kWords) bits &= (start % 64 == 0) ? 0 : ~(~std::uint64_t{0} << (start % 64));
    if (bits == 0) continue;
    const std::size_t s = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
    const std::size_t distance = (s + kSlots - start) % kSlots;
    const std::int64_t t = start_tick + static_cast<std::int64_t>(distance);
    return Clock::time_point(Clock::duration(t * tick_));
  }
  return std::nullopt;  // unreachable while size_ > 0
}

}  // namespace comet::detail
