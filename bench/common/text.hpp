// Small string helpers for options and the printed figures.
#pragma once

#include <string>
#include <vector>

namespace bench {

// The non-empty items of `s` between `sep`s.
std::vector<std::string> split(const std::string& s, char sep);

// One value through a printf format.
std::string fmt(const char* f, double v);

// Values rounded to whole numbers, space-separated ("12 13 11").
std::string join_ms(const std::vector<double>& v);

}  // namespace bench
