// The wall clock in milliseconds since the Unix epoch: what Redis stream ids,
// webhook bodies and wall-clock deadlines are written in. (Elapsed time is
// core/clock.hpp's steady Clock.)
#pragma once

#include <chrono>
#include <cstdint>

namespace comet {

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace comet
