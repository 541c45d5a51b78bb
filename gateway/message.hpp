// One message as received from Redis: immutable once made, shared by every
// buffer, batch and response that carries it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gateway/clock.hpp"

namespace comet {

struct Message {
  std::uint64_t seq = 0;  // position in the gateway's single order
  Clock::time_point received;
  std::string channel;  // name without the Redis prefix
  // The message object of API.md, encoded once at receipt:
  // {"channel":"..","id":"..","data":".."} (or "data_base64").
  std::string json;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace comet
