// The Markdown tables the scenarios end with (pasted into docs/BENCHMARKS.md
// as they are).
#pragma once

#include <string>
#include <vector>

namespace bench {

// Columns as wide as their widest cell (at least 3, for the separator).
void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace bench
