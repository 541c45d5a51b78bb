// Forms the webhook batches every URL gets: the first event of a batch
// opens a window of `window`; the batch is due when the window closes, when
// `max_batch` events wait, or at once while draining. Sans-IO on injected
// time: push(), then take() when next_wakeup() has come.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "gateway/core/clock.hpp"
#include "gateway/core/webhook_event.hpp"

namespace comet {

class WebhookBatcher {
 public:
  explicit WebhookBatcher(Clock::duration window = std::chrono::milliseconds(100),
                          std::size_t max_batch = 1000);

  void push(WebhookEvent e, Clock::time_point now);
  // When a batch is due; nullopt when nothing waits.
  std::optional<Clock::time_point> next_wakeup() const;
  // The batch due at `now`, in the order the events came (empty when none
  // is due). Never more than max_batch events.
  std::vector<WebhookEvent> take(Clock::time_point now);

  // From now on a batch is due as soon as an event waits (shutdown).
  void drain() { draining_ = true; }
  std::size_t pending() const { return pending_.size(); }

 private:
  Clock::duration window_;
  std::size_t max_batch_;
  std::vector<WebhookEvent> pending_;  // at most max_batch: take() is due then
  Clock::time_point opened_at_{};
  bool draining_ = false;
};

}  // namespace comet
