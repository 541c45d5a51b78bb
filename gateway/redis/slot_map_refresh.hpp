// When to ask a cluster for its slot map, sans-IO (times passed in): on
// demand (a MOVED, a node lost, a command with no map to route by), one
// lookup at a time, at most once per kMinInterval so that a master that
// is down (before its failover) is not hammered with connects. A demand
// while a lookup runs is remembered and served once it ends; a lookup that
// no node answered is followed by another about kRetryInterval later while
// there is no map at all (connections that load the functions wait for it).
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "gateway/core/clock.hpp"
#include "gateway/redis/redis_url.hpp"

namespace comet {

class SlotMapRefresh {
 public:
  static constexpr std::chrono::milliseconds kMinInterval{250};
  static constexpr std::chrono::milliseconds kRetryInterval{1000};

  struct Decision {
    enum class Type {
      noted,  // a lookup is running or waiting: it is served afterwards
      wait,   // too soon: call wait_over() at `at`, then request() again
      ask,    // start a lookup now; call done() when it ends
    };
    Type type = Type::noted;
    Clock::time_point at{};
  };

  // The slot map is wanted.
  Decision request(Clock::time_point now);
  // The wait of a `wait` decision is over.
  void wait_over() { busy_ = false; }
  // A lookup ended, with a map (`got_map`) or without; `have_map`: one is
  // known at all. True when another lookup is due: request() again.
  bool done(Clock::time_point now, bool got_map, bool have_map);
  // Stopped: forget everything but the time of the last lookup.
  void reset() { busy_ = again_ = false; }
  bool busy() const { return busy_; }

  // The nodes to ask, in order: the live masters of the current map, then
  // the seeds, then the nodes that are down; each once.
  static std::vector<RedisHostPort> candidates(
      const std::vector<RedisHostPort>& masters, const std::vector<RedisHostPort>& seeds,
      const std::function<bool(const RedisHostPort&)>& is_down);

 private:
  bool busy_ = false;   // a lookup runs, or waits for kMinInterval
  bool again_ = false;  // wanted while busy
  Clock::time_point last_{};
};

}  // namespace comet
