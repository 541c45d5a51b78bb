// Time as the bench measures it: the steady clock only, so that a wall-clock
// step (NTP) never shows up as latency.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "bench/common/die.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

inline double since_ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Polls `ready` every 10 ms; dies after `limit`.
template <class F>
void wait_for(const std::string& what, F ready, std::chrono::milliseconds limit = 10s) {
  const auto deadline = Clock::now() + limit;
  while (!ready()) {
    if (Clock::now() > deadline) die("timed out waiting for " + what);
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace bench
