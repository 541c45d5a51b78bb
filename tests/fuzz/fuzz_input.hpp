// What the fuzz targets share: a check that aborts (libFuzzer reports it
// with the input), and inputs cut at points the fuzzer chooses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

// An invariant of the code under test: a failure is a finding, like a crash.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace comet::fuzz {

// Bytes and where to cut them: the first byte's low 3 bits say how many
// cuts, each cut is the next 2 bytes (little-endian) modulo the length of
// what remains, the rest is the input. A seed is "\0" followed by the input.
struct SplitInput {
  std::string_view bytes;
  std::vector<std::size_t> cuts;  // ascending, within [0, bytes.size()]
};

inline SplitInput split_input(const std::uint8_t* data, std::size_t size) {
  SplitInput in;
  if (size == 0) return in;
  const std::size_t count = data[0] & 7;
  std::size_t at = 1;
  std::vector<std::uint16_t> raw;
  for (std::size_t i = 0; i < count && at + 2 <= size; ++i, at += 2) {
    raw.push_back(static_cast<std::uint16_t>(data[at] | (data[at + 1] << 8)));
  }
  in.bytes = std::string_view(reinterpret_cast<const char*>(data + at), size - at);
  for (std::uint16_t r : raw) in.cuts.push_back(r % (in.bytes.size() + 1));
  std::sort(in.cuts.begin(), in.cuts.end());
  return in;
}

// Calls f(piece) for each piece of `bytes` between the cuts, in order.
template <class F>
void for_each_piece(const SplitInput& in, F&& f) {
  std::size_t start = 0;
  for (std::size_t c : in.cuts) {
    f(in.bytes.substr(start, c - start));
    start = c;
  }
  f(in.bytes.substr(start));
}

// For RESP input: hiredis's reader allocates an array's or string's
// announced size up front, and a Redis server announces what it sends, so
// inputs announcing more than 4 digits are left out (they would only
// measure hiredis's allocator).
inline bool resp_sizes_are_small(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '*' && bytes[i] != '$') continue;
    std::size_t digits = 0;
    while (i + 1 + digits < bytes.size() && bytes[i + 1 + digits] >= '0' &&
           bytes[i + 1 + digits] <= '9') {
      ++digits;
    }
    if (digits > 4) return false;
  }
  return true;
}

}  // namespace comet::fuzz
