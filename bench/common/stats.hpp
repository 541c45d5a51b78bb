// Figures out of samples (median, percentiles) and out of the servers' own
// stats pages (`name value` lines).
#pragma once

#include <string>
#include <vector>

namespace bench {

// NaN when empty.
double median(std::vector<double> v);

// Nearest-rank percentile of an already sorted vector; NaN when empty.
double percentile(std::vector<double>& sorted, double p);

// The value on the `name value` line of a stats page; -1 when absent.
long metric(const std::string& text, const std::string& name);

}  // namespace bench
