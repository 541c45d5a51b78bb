#include "bench/common/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bench {

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

long metric(const std::string& text, const std::string& name) {
  std::size_t pos = text.rfind(name + " ", 0) == 0 ? 0 : text.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  if (pos != 0) ++pos;
  return std::atol(text.c_str() + pos + name.size() + 1);
}

}  // namespace bench
