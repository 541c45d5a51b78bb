// What the Hub's poll and durable-window code share about finding things:
// a buffer's first message after a seq or a stream id, a poll's channel
// names in their one order, and the positions a cursor gives them.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/cursor.hpp"
#include "gateway/core/detail/message_buffer.hpp"
#include "gateway/core/message.hpp"
#include "gateway/core/stream_id.hpp"

namespace comet::detail {

inline auto first_after(const MessageBuffer& buf, std::uint64_t since) {
  return std::upper_bound(buf.begin(), buf.end(), since,
                          [](std::uint64_t s, const MessagePtr& m) { return s < m->seq; });
}

inline auto first_id_after(MessageBuffer::const_iterator from, MessageBuffer::const_iterator to,
                           StreamId p) {
  return std::upper_bound(from, to, p, [](StreamId v, const MessagePtr& m) { return v < m->id; });
}

// The position of each name in `since`, if any and if no other name of the
// poll has the same hash.
inline std::vector<std::optional<StreamId>> positions_of(std::span<const std::string_view> names,
                                                         const Since& since) {
  std::vector<std::optional<StreamId>> out(names.size());
  if (since.kind != Since::Kind::cursor || since.cursor.positions.empty()) return out;
  std::vector<std::uint64_t> hashes;
  for (std::string_view n : names) hashes.push_back(channel_hash(n));
  std::vector<std::uint64_t> sorted = hashes;
  std::sort(sorted.begin(), sorted.end());
  const auto& ps = since.cursor.positions;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), hashes[i]);
    if (hi - lo != 1) continue;
    auto it = std::lower_bound(ps.begin(), ps.end(), hashes[i],
                               [](const Position& p, std::uint64_t h) { return p.hash < h; });
    if (it != ps.end() && it->hash == hashes[i]) out[i] = it->id;
  }
  return out;
}

inline std::vector<std::string_view> sorted_names(std::span<const std::string> channels) {
  std::vector<std::string_view> names(channels.begin(), channels.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace comet::detail
