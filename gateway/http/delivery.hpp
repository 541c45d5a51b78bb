// What the endpoints and the parked requests (PollWaiter, SseWaiter) need
// from the application that runs them: the Hub, how to answer, and whether
// the gateway drains. They see only this, never the application object.
#pragma once

#include "gateway/core/clock.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/http/responder.hpp"

namespace comet {

class Delivery {
 public:
  virtual Hub& hub() = 0;
  virtual Responder& responder() = 0;
  // Shutting down: no new request is parked, parked ones are answered.
  virtual bool draining() const = 0;
  // A stream writes a comment at least this often.
  virtual Clock::duration sse_keepalive() const = 0;
  // Keeps one timer armed at the Hub's next wakeup; call after parking.
  virtual void schedule_wakeup() = 0;

 protected:
  ~Delivery() = default;
};

}  // namespace comet
