// One message as received from Redis: immutable once made, shared by every
// buffer, batch and response that carries it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gateway/clock.hpp"
#include "gateway/stream_id.hpp"

namespace comet {

struct Message {
  // Position in the gateway's single order; 0 for a durable message read
  // from its stream for one poll only (not buffered).
  std::uint64_t seq = 0;
  // Published with Comet::publishDurable: `id` is its stream entry id.
  bool durable = false;
  StreamId id;
  Clock::time_point received;
  std::string channel;  // name without the Redis prefix
  // The message object of docs/API.md, encoded once at receipt:
  // {"channel":"..","id":"..","data":".."} (or "data_base64"); the id of a
  // durable message is its stream id, of a plain one a v1 cursor.
  std::string json;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace comet
