#include "gateway/core/backoff.hpp"

#include <algorithm>
#include <utility>

namespace comet {

using std::chrono::milliseconds;

Backoff::Backoff(milliseconds min, milliseconds max, Jitter jitter, Random random)
    : min_(std::max(min, milliseconds(1))),
      max_(std::max(max, min_)),
      jitter_(jitter),
      random_(std::move(random)) {}

milliseconds Backoff::ceiling() const {
  milliseconds c = min_;
  // Doubling stops at max, so it cannot overflow whatever attempt_ is.
  for (int i = 0; i < attempt_ && c < max_; ++i) c *= 2;
  return std::min(c, max_);
}

milliseconds Backoff::next() {
  const milliseconds c = ceiling();
  if (attempt_ < 62) ++attempt_;
  if (jitter_ == Jitter::none || !random_) return c;
  const auto bound = static_cast<std::uint64_t>(c.count());
  return milliseconds(static_cast<milliseconds::rep>(std::min(random_(bound), bound)));
}

void Backoff::lost(std::chrono::steady_clock::time_point at, milliseconds stable) {
  if (up_at_ && at - *up_at_ >= stable) reset();
  up_at_.reset();
}

}  // namespace comet
