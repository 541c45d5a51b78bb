// Cursors: the opaque `since` values of API.md. A cursor names a position in
// one gateway's order (its epoch, chosen at start, and a sequence number);
// the textual form is versioned so that durable positions can be added.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace comet {

struct Cursor {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

// "1.<epoch, 16 lowercase hex>.<seq, lowercase hex>": URL-safe, no escaping.
std::string format_cursor(const Cursor& c);
// nullopt when no gateway could have issued the text (wrong syntax).
std::optional<Cursor> parse_cursor(std::string_view text);

// Where a poll starts.
struct Since {
  enum class Kind { now, earliest, cursor };
  Kind kind = Kind::now;
  Cursor cursor;  // with Kind::cursor
};

}  // namespace comet
