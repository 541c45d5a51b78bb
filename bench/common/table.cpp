#include "bench/common/table.hpp"

#include <algorithm>
#include <cstdio>

namespace bench {

namespace {

void print_row(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  std::string line = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char b[256];
    std::snprintf(b, sizeof b, " %-*s |", widths[i], cells[i].c_str());
    line += b;
  }
  std::printf("%s\n", line.c_str());
}

}  // namespace

void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<int> w(head.size(), 3);
  for (std::size_t i = 0; i < head.size(); ++i)
    w[i] = std::max(w[i], static_cast<int>(head[i].size()));
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], static_cast<int>(r[i].size()));
  print_row(head, w);
  std::string sep = "|";
  for (int x : w) sep += std::string(static_cast<std::size_t>(x) + 2, '-') + "|";
  std::printf("%s\n", sep.c_str());
  for (const auto& r : rows) print_row(r, w);
  std::fflush(stdout);
}

}  // namespace bench
