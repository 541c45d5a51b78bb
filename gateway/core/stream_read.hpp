// What a read of a durable channel's stream answered (comet_read_v1 in
// deploy/redis/comet.lua), and the bookkeeping that says whether such a read
// may re-join a channel to the live subscription.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/stream_id.hpp"

namespace comet {

struct StreamEntry {
  StreamId id;
  std::string payload;
};

struct StreamRead {
  enum class Status {
    ok,    // the entries are exactly the stream after the position read from
    gap,   // entries after that position are gone (trimmed, or the key was lost)
    none,  // no such stream (never published durably, expired, or lost)
  };
  Status status = Status::ok;
  StreamId from;  // the position read after
  // The entries are exactly the stream's entries after `base`: the position
  // read from for ok/none, the (gone) predecessor of the first entry for gap.
  StreamId base;
  std::vector<StreamEntry> entries;  // in stream order
  // Fewer entries than asked for: they reach the end of the stream as it
  // was when Redis ran the read.
  bool complete = true;

  // What holding it costs, about: the payloads and a fixed part per entry.
  std::size_t bytes() const {
    std::size_t n = sizeof(StreamRead);
    for (const StreamEntry& e : entries) n += sizeof(StreamEntry) + e.payload.size();
    return n;
  }
};

// Taken when a read is sent to Redis. Only a read sent while the
// subscription was up, with no loss or resubscription since (link_gen), may
// let live messages extend a channel again: every message published after
// the read ran then arrives on the subscription.
struct ReadToken {
  std::uint64_t link_gen = 0;
  bool link_up = false;
  // The channel's window generation when the read was sent (none: the
  // channel had no window).
  std::optional<std::uint64_t> window_gen;
};

// A read a poll (or a resync) needs: `channel`'s stream after `from`.
struct ReadNeed {
  std::string channel;
  StreamId from;
  friend bool operator==(const ReadNeed&, const ReadNeed&) = default;
};

}  // namespace comet
