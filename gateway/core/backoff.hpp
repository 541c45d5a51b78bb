// The one backoff, of Redis reconnects and webhook retries: the n-th wait
// since the last reset() is min * 2^n, capped at max; with full jitter it is
// drawn uniformly from [0, that], so gateways that lost Redis together do
// not come back together. Pure: the random source is injected, no clock.
// In core/ so that redis/ and core/'s webhook queue share it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace comet {

class Backoff {
 public:
  enum class Jitter { none, full };
  // A uniform draw from [0, bound]; only called with Jitter::full.
  using Random = std::function<std::uint64_t(std::uint64_t bound)>;

  // A `min` below 1 ms is taken as 1 ms (a zero wait would spin); a `max`
  // below `min` is taken as `min`.
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max,
          Jitter jitter = Jitter::none, Random random = {});

  // The wait before the next attempt; counts that attempt.
  std::chrono::milliseconds next();
  // The ceiling the next() after this one draws from (for logs and tests).
  std::chrono::milliseconds ceiling() const;
  // After a success: the next wait is the shortest again.
  void reset() { attempt_ = 0; }
  // Waits handed out since the last reset().
  int attempts() const { return attempt_; }

  // For a link's reconnects: up() when the link came up, lost() when it
  // went down. The waits start from the shortest again only if it stayed up
  // for `stable` or longer; one that drops sooner goes on doubling, so a
  // server that accepts and drops at once is not hammered.
  void up(std::chrono::steady_clock::time_point at) { up_at_ = at; }
  void lost(std::chrono::steady_clock::time_point at, std::chrono::milliseconds stable);

 private:
  std::chrono::milliseconds min_, max_;
  Jitter jitter_;
  Random random_;
  int attempt_ = 0;
  std::optional<std::chrono::steady_clock::time_point> up_at_;
};

}  // namespace comet
