// Publishing on behalf of an HTTP client: the publish endpoint's view of
// the Redis side.
#pragma once

#include <functional>
#include <string_view>

#include "gateway/core/publish_result.hpp"

namespace comet {

class Publisher {
 public:
  // PUBLISH `payload` on channel `channel`, or with `durable` append it to
  // the channel's stream first (as Comet::publishDurable). `done` runs once,
  // from a fresh stack; false (and `done` never runs) when Redis cannot be
  // asked now.
  virtual bool publish(std::string_view channel, std::string_view payload, bool durable,
                       std::function<void(PublishResult)> done) = 0;

 protected:
  ~Publisher() = default;
};

}  // namespace comet
