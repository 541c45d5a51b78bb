// Cursors (gateway/core/cursor): any text that parses is written back by
// format_cursor exactly as it was (one spelling per cursor), and any cursor
// a gateway could issue (its own order or a stream position; positions
// sorted by hash, each hash once, 48-bit hashes) parses back to itself from
// its text.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/core/cursor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = comet::parse_cursor(text)) FUZZ_CHECK(comet::format_cursor(*c) == text);

  FuzzedDataProvider in(data, size);
  comet::Cursor c(in.ConsumeIntegral<std::uint64_t>(), in.ConsumeIntegral<std::uint64_t>());
  // A stream position (v3) replaces the epoch and seq in the text.
  if (in.ConsumeBool()) {
    c.stream = comet::StreamPos{c.epoch, c.seq};
    c.epoch = c.seq = 0;
  }
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 64);
  for (std::size_t i = 0; i < count; ++i) {
    comet::Position p;
    p.hash = in.ConsumeIntegral<std::uint64_t>() & ((std::uint64_t{1} << 48) - 1);
    p.id = {in.ConsumeIntegral<std::uint64_t>(), in.ConsumeIntegral<std::uint64_t>()};
    c.positions.push_back(p);
  }
  std::sort(c.positions.begin(), c.positions.end(),
            [](const comet::Position& a, const comet::Position& b) { return a.hash < b.hash; });
  c.positions.erase(std::unique(c.positions.begin(), c.positions.end(),
                                [](const comet::Position& a, const comet::Position& b) {
                                  return a.hash == b.hash;
                                }),
                    c.positions.end());
  const std::string formatted = comet::format_cursor(c);
  // URL-safe without escaping.
  FUZZ_CHECK(formatted.find_first_not_of("0123456789abcdef.-") == std::string::npos);
  const auto back = comet::parse_cursor(formatted);
  FUZZ_CHECK(back && *back == c);
  return 0;
}
