// Other engineers' builds and tests share this 2-core machine: how busy the
// CPUs are, how much of that is not ours, and waiting until they are quiet.
#pragma once

#include <chrono>
#include <vector>

#include "bench/common/clock.hpp"

namespace bench {

// Fraction of all CPUs busy over `ms` (from /proc/stat).
double busy_fraction(int ms);

// CPU used by processes other than ours during a measurement, in percent
// of one CPU.
class OtherCpu {
 public:
  // `own`: every pid of ours (this process and what it started).
  explicit OtherCpu(std::vector<int> own);
  double percent() const;

 private:
  static long long total_busy();
  long long own_ticks() const;

  std::vector<int> own_;
  long long busy0_ = 0, own0_ = 0;
  Clock::time_point t0_;
};

// Measurements on a shared 2-core machine are only worth taking when nothing
// else runs: wait (up to `limit`, and at most g_quiet_limit) until the CPUs
// are idle but for us.
void wait_quiet(std::chrono::seconds limit = 300s);

// A cap on every wait_quiet (comet_bench --quiet-wait): for a machine whose
// other load is known not to leave (a long job under nice), so that the run
// goes on at once and reports the disturbance in its other-CPU column.
inline std::chrono::seconds g_quiet_limit = std::chrono::seconds::max();

}  // namespace bench
