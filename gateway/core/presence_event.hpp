// A join or a leave on a presence channel, as every gateway hears it in the
// pub/sub stream (the Redis side words and parses it: redis/presence_wire).
#pragma once

#include <cstdint>
#include <string>

namespace comet {

struct PresenceEvent {
  enum class Kind : std::uint8_t { join, leave };
  // Every join and leave of a channel takes the next version, so a member
  // list read at version V is brought up to date by the events after V.
  std::uint64_t version = 0;
  Kind kind = Kind::join;
  std::string user;
  std::string info;  // a join's info: a JSON object's text, or empty
};

}  // namespace comet
