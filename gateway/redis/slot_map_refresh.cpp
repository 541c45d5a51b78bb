#include "gateway/redis/slot_map_refresh.hpp"

#include <algorithm>

namespace comet {

using Type = SlotMapRefresh::Decision::Type;

SlotMapRefresh::Decision SlotMapRefresh::request(Clock::time_point now) {
  if (busy_) {
    again_ = true;
    return {Type::noted, {}};
  }
  busy_ = true;
  const auto earliest = last_ + kMinInterval;
  if (earliest > now) return {Type::wait, earliest};
  last_ = now;
  return {Type::ask, now};
}

bool SlotMapRefresh::done(Clock::time_point now, bool got_map, bool have_map) {
  busy_ = false;
  if (!got_map) {
    // The next lookup no sooner than kRetryInterval from now.
    last_ = now + kRetryInterval - kMinInterval;
    if (!have_map) {
      again_ = false;
      return true;
    }
  }
  const bool again = again_;
  again_ = false;
  return again;
}

std::vector<RedisHostPort> SlotMapRefresh::candidates(
    const std::vector<RedisHostPort>& masters, const std::vector<RedisHostPort>& seeds,
    const std::function<bool(const RedisHostPort&)>& is_down) {
  std::vector<RedisHostPort> live, down;
  auto add = [&](const RedisHostPort& at) {
    auto& list = is_down(at) ? down : live;
    if (std::find(list.begin(), list.end(), at) == list.end()) list.push_back(at);
  };
  for (const auto& m : masters) add(m);
  for (const auto& s : seeds) add(s);
  live.insert(live.end(), down.begin(), down.end());
  return live;
}

}  // namespace comet
