// What a parked request (PollWaiter, SseWaiter) needs from the application
// that parked it: the Hub, how to answer, and whether the gateway drains.
// The waiters see only this, never the application object.
#pragma once

#include <memory>
#include <string>

#include "fcgi/request.hpp"
#include "gateway/core/batch.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/hub.hpp"

namespace comet {

class Delivery {
 public:
  virtual Hub& hub() = 0;
  virtual bool draining() const = 0;
  // A stream writes a comment at least this often.
  virtual Clock::duration sse_keepalive() const = 0;
  // Observes the delivery latency of the messages in `batch`.
  virtual void count_delivery(const Batch& batch) = 0;
  // The SSE text of `batch`, shared by every stream released with it.
  virtual std::shared_ptr<const std::string> sse_events(const Batch& batch) = 0;
  // Keeps one timer armed at the Hub's next wakeup; call after parking.
  virtual void schedule_wakeup() = 0;
  // Writes a poll response (JSON or JSONP) for `batch`.
  virtual void send_batch(fcgi::Request& request, const Batch& batch, const std::string& callback,
                          const std::string& origin) = 0;

 protected:
  ~Delivery() = default;
};

}  // namespace comet
