#include "gateway/core/webhook_batcher.hpp"

#include <algorithm>
#include <utility>

namespace comet {

WebhookBatcher::WebhookBatcher(Clock::duration window, std::size_t max_batch)
    : window_(window), max_batch_(std::max<std::size_t>(max_batch, 1)) {}

void WebhookBatcher::push(WebhookEvent e, Clock::time_point now) {
  if (pending_.empty()) opened_at_ = now;
  pending_.push_back(std::move(e));
}

std::optional<Clock::time_point> WebhookBatcher::next_wakeup() const {
  if (pending_.empty()) return std::nullopt;
  if (draining_ || pending_.size() >= max_batch_) return opened_at_;
  return opened_at_ + window_;
}

std::vector<WebhookEvent> WebhookBatcher::take(Clock::time_point now) {
  const auto due = next_wakeup();
  if (!due || now < *due) return {};
  if (pending_.size() <= max_batch_) return std::exchange(pending_, {});
  // More than a batch waits only if push() was called past max_batch
  // without a take() in between: the rest opens the next window now.
  std::vector<WebhookEvent> batch(std::make_move_iterator(pending_.begin()),
                                  std::make_move_iterator(pending_.begin() + max_batch_));
  pending_.erase(pending_.begin(), pending_.begin() + max_batch_);
  opened_at_ = now;
  return batch;
}

}  // namespace comet
