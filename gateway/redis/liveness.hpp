// The liveness rule of a subscription, sans-IO: it is dead once nothing
// at all (not even its own heartbeat) has been heard for three heartbeat
// intervals. Any bytes read count, even part of a large message. Time is
// passed in; the driver arms one timer for deadline() instead of one per
// message, and asks silence() when it fires.
#pragma once

#include <chrono>
#include <optional>

#include "gateway/core/clock.hpp"

namespace comet {

class Liveness {
 public:
  static constexpr int kSilentIntervals = 3;

  explicit Liveness(std::chrono::milliseconds heartbeat_interval)
      : limit_(heartbeat_interval * kSilentIntervals) {}

  // Something was read (or the watch starts: a server that accepts the
  // connection but never answers is as dead as a silent subscription).
  void heard(Clock::time_point now) { last_heard_ = now; }
  // The earliest moment the silence could be long enough.
  Clock::time_point deadline() const { return last_heard_ + limit_; }
  // How long it has been silent, when that is long enough to be dead.
  std::optional<Clock::duration> dead(Clock::time_point now) const {
    const auto silent = now - last_heard_;
    if (silent < limit_) return std::nullopt;
    return silent;
  }
  std::chrono::milliseconds limit() const { return limit_; }

 private:
  std::chrono::milliseconds limit_;
  Clock::time_point last_heard_{};
};

}  // namespace comet
