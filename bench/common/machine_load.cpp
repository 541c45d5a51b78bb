#include "bench/common/machine_load.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <utility>

#include "bench/common/proc.hpp"

namespace bench {

double busy_fraction(int ms) {
  auto sample = [] {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    in >> cpu;
    for (auto& x : v) in >> x;
    long long total = 0;
    for (auto x : v) total += x;
    return std::pair<long long, long long>(total, v[3] + v[4]);
  };
  const auto a = sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  const auto b = sample();
  const double total = static_cast<double>(b.first - a.first);
  return total > 0 ? 1.0 - static_cast<double>(b.second - a.second) / total : 0;
}

OtherCpu::OtherCpu(std::vector<int> own) : own_(std::move(own)) {
  busy0_ = total_busy();
  own0_ = own_ticks();
  t0_ = Clock::now();
}

double OtherCpu::percent() const {
  const double secs = std::chrono::duration<double>(Clock::now() - t0_).count();
  const double other = static_cast<double>((total_busy() - busy0_) - (own_ticks() - own0_));
  return std::max(0.0, 100.0 * other / (static_cast<double>(sysconf(_SC_CLK_TCK)) * secs));
}

long long OtherCpu::total_busy() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long v[8] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  return v[0] + v[1] + v[2];  // user, nice, system (irq time is not charged to processes)
}

long long OtherCpu::own_ticks() const {
  long long sum = 0;
  for (int p : own_) sum += std::max(0L, cpu_ticks(p));
  return sum;
}

void wait_quiet(std::chrono::seconds limit) {
  const auto deadline = Clock::now() + std::min(limit, g_quiet_limit);
  bool told = false;
  for (;;) {
    const double busy = busy_fraction(500);
    if (busy < 0.10) return;
    if (Clock::now() > deadline) {
      std::printf(
          "  WARNING: the machine stayed busy (%.0f%% CPU used by other processes); figures are "
          "disturbed\n",
          busy * 100);
      return;
    }
    if (!told) {
      std::printf("  (waiting for other processes to leave the CPUs: %.0f%% busy)\n", busy * 100);
      std::fflush(stdout);
      told = true;
    }
  }
}

}  // namespace bench
