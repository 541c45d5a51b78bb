// The Redis names of a channel, in one place: what PHP's Comet.php and
// deploy/redis/comet.lua use too.
#pragma once

#include <string>
#include <string_view>

namespace comet {

// Key of channel NAME's stream: "<prefix>{NAME}:stream". The hash tag keeps
// every key of one channel in one cluster slot.
inline std::string stream_key(std::string_view prefix, std::string_view channel) {
  std::string k;
  k.reserve(prefix.size() + channel.size() + 9);
  k.append(prefix).append("{").append(channel).append("}:stream");
  return k;
}

}  // namespace comet
