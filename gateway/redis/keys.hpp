// The Redis names of a channel, in one place: what PHP's Comet.php and
// deploy/redis/comet.lua use too.
#pragma once

#include <array>
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

// The keys of presence channel NAME, in the order comet_presence_v1's
// functions take them: "<prefix>{NAME}:presence" (members), ":presence:info",
// ":presence:gone", ":presence:v" (deploy/redis/comet_presence.lua).
inline std::array<std::string, 4> presence_keys(std::string_view prefix, std::string_view channel) {
  std::string base;
  base.append(prefix).append("{").append(channel).append("}:presence");
  return {base, base + ":info", base + ":gone", base + ":v"};
}

// Occupancy: gateway ID's clients per channel, a hash channel -> clients
// ("<prefix>#occupancy:<ID>"), and the gateways reporting, a sorted set
// ID -> until when its report holds ("<prefix>#gateways"). What
// Comet::occupancy() sums.
inline std::string occupancy_key(std::string_view prefix, std::string_view gateway) {
  std::string k(prefix);
  k.append("#occupancy:").append(gateway);
  return k;
}
inline std::string gateway_registry_key(std::string_view prefix) {
  std::string k(prefix);
  k.append("#gateways");
  return k;
}

// The PSUBSCRIBE pattern for every channel under `prefix`: the prefix with
// Redis's glob characters (* ? [ ] \\) escaped, then "*". Unescaped, a
// prefix such as "site[1]:" would match "site1:..." and never itself.
inline std::string subscription_pattern(std::string_view prefix) {
  std::string p;
  p.reserve(prefix.size() * 2 + 1);
  for (const char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') p.push_back('\\');
    p.push_back(c);
  }
  p.push_back('*');
  return p;
}

}  // namespace comet
