#include "gateway/core/stream_id.hpp"

#include <charconv>
#include <limits>

namespace comet {
namespace {

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

StreamId StreamId::pred() const {
  if (seq > 0) return StreamId{ms, seq - 1};
  if (ms > 0) return StreamId{ms - 1, std::numeric_limits<std::uint64_t>::max()};
  return StreamId{};
}

std::string StreamId::text() const {
  return std::to_string(ms) + '-' + std::to_string(seq);
}

std::optional<StreamId> StreamId::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parse_decimal(text.substr(0, dash));
  auto seq = parse_decimal(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

}  // namespace comet
