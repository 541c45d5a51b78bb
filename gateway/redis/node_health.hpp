// Which cluster nodes are down, sans-IO (times passed in): a node whose
// connection failed or broke rests before the next attempt, kMinRest
// doubling per failure in a row up to kMaxRest; meanwhile commands for it
// fail at once. It counts as up again once it has answered properly.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "gateway/core/backoff.hpp"
#include "gateway/core/clock.hpp"

namespace comet {

class NodeHealth {
 public:
  static constexpr std::chrono::milliseconds kMinRest{250};
  static constexpr std::chrono::milliseconds kMaxRest{4000};

  // `node` ("host:port") failed at `now`: true for the first failure in a
  // row (the one worth a log line).
  bool failed(const std::string& node, Clock::time_point now);
  // It answered properly: the failures in a row it had, nullopt when it
  // was not down.
  std::optional<int> recovered(const std::string& node);
  bool down(const std::string& node) const { return down_.count(node) != 0; }
  // Down, and its rest is not over at `now`.
  bool resting(const std::string& node, Clock::time_point now) const;
  // Nodes that left the slot map are forgotten.
  void keep_only(const std::function<bool(const std::string&)>& listed);
  void clear() { down_.clear(); }

 private:
  struct Down {
    Backoff rest{kMinRest, kMaxRest};  // attempts(): failures in a row
    Clock::time_point retry_at;
  };
  std::map<std::string, Down> down_;
};

}  // namespace comet
