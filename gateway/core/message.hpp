// One message as received from Redis: immutable once made, shared by every
// buffer, batch and response that carries it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/core/clock.hpp"
#include "gateway/core/stream_id.hpp"
#include "gateway/core/stream_marks.hpp"

namespace comet {

struct Message {
  // Position in the gateway's single order; 0 for a durable message read
  // from its stream for one poll only (not buffered).
  std::uint64_t seq = 0;
  // Where a client that has it stands in the pub/sub stream's order
  // (Hub::cursor_at), when the gateway holds a mark before it.
  std::optional<StreamPos> stream;
  // Published with Comet::publishDurable: `id` is its stream entry id.
  bool durable = false;
  StreamId id;
  Clock::time_point received;
  std::string channel;  // name without the Redis prefix
  // The message as clients get it, encoded once at receipt by the Hub's
  // BatchEncoder; the id in it is a durable message's stream id, a plain
  // one's cursor.
  std::string encoded;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace comet
