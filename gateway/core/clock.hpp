#pragma once

#include <chrono>

namespace comet {

// The core never reads a clock itself: time is passed in, so tests inject it.
using Clock = std::chrono::steady_clock;

}  // namespace comet
