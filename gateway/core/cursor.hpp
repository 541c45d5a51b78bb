// Cursors: the opaque `since` values of docs/API.md.
//
// A cursor places plain channels either by a position in the Redis
// server's pub/sub stream (a mark and the messages after it: StreamPos,
// see stream_marks.hpp), which every gateway subscribed to that server can
// place, or, before a gateway has heard a mark, by a position in that one
// gateway's order (its epoch, chosen at start, and a sequence number),
// which only the issuing gateway can place. For durable channels it also
// carries the Redis stream id of the last message the client has on each
// of them ("positions"), which every gateway, after any restart, can place.
//
// Text (URL-safe, no escaping, one spelling per cursor):
//   v1  "1.<epoch, 16 hex>.<seq, hex>"                        no positions
//   v2  "2.<epoch, 16 hex>.<seq, hex>(.<hash>-<ms>-<sq>)+"    positions
//   v3  "3.<mark, 16 hex>.<after, hex>(.<hash>-<ms>-<sq>)*"  a stream position
// where <hash> is channel_hash() of the channel name in 12 hex digits and
// <ms>-<sq> the stream id in hex; positions sorted by hash, each hash once.
// A gateway's own cursor without positions is written as v1; v1 and v2
// cursors stay valid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/stream_id.hpp"
#include "gateway/core/stream_marks.hpp"

namespace comet {

// A durable channel's position: channels are named by a 48-bit hash of
// their name, so a cursor stays short with many channels. Two channels of
// one poll with the same hash get no position (their messages are then
// placed by seq on the issuing gateway, or reported as a gap elsewhere);
// see the README for the residual risk when a client changes its channels.
struct Position {
  std::uint64_t hash = 0;
  StreamId id;
  friend bool operator==(const Position&, const Position&) = default;
};

struct Cursor {
  Cursor() = default;
  Cursor(std::uint64_t e, std::uint64_t s, std::vector<Position> p = {})
      : epoch(e), seq(s), positions(std::move(p)) {}

  // The issuing gateway's order (written when `stream` is none).
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  // The stream's order: a cursor with one is written as v3, and its epoch
  // and seq are not part of it (0 when parsed).
  std::optional<StreamPos> stream;
  std::vector<Position> positions;  // sorted by hash, unique
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

// FNV-1a 64 of the name, low 48 bits.
std::uint64_t channel_hash(std::string_view name);

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
