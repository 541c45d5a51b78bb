// Placing a cursor before a poll or stream is parked: what the Hub needs
// to answer `since` on its channels without a gap (stream reads of durable
// channels held elsewhere or not at all; a barrier on the subscription for
// another gateway's cursor). The application does it (app/cursor_placement);
// the endpoints see only this.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fcgi/request.hpp"
#include "gateway/core/cursor.hpp"
#include "gateway/core/hub.hpp"

namespace comet {

class Placement {
 public:
  // Runs `then` with the reads done for `since` on `channels` (nullptr
  // when none were needed: at once, from this stack). `then` is not called
  // when the request has gone meanwhile; it checks Delivery::draining().
  virtual void place(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                     const Since& since, std::function<void(const PollReads*)> then) = 0;

 protected:
  ~Placement() = default;
};

}  // namespace comet
