// Redis stream entry ids ("<ms>-<seq>", both unsigned 64-bit): the ids of
// durable messages. Redis makes them, so they mean the same on every gateway
// and after every restart.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace comet {

struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;

  // The largest id below this one (0-0 stays 0-0): "everything up to
  // pred(x)" is "everything before x".
  StreamId pred() const;
  // Redis's own text, "1718000000000-0": what XADD returns, what
  // Comet::publishDurable returns, and the "id" of a durable message.
  std::string text() const;
  // nullopt unless strictly "<digits>-<digits>" within range.
  static std::optional<StreamId> parse(std::string_view text);
};

}  // namespace comet
