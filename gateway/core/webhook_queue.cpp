#include "gateway/core/webhook_queue.hpp"

#include <utility>

namespace comet {
namespace {

// Without a random source (tests), the waits are the ceilings themselves.
Backoff make_backoff(const WebhookQueueOptions& o, Backoff::Random random) {
  const auto jitter = random ? Backoff::Jitter::full : Backoff::Jitter::none;
  return Backoff(o.backoff_min, o.backoff_max, jitter, std::move(random));
}

}  // namespace

WebhookQueue::WebhookQueue(WebhookQueueOptions options, Backoff::Random random)
    : options_(std::move(options)), backoff_(make_backoff(options_, std::move(random))) {}

std::size_t WebhookQueue::pop_head() {
  const std::size_t n = batches_.front()->events;
  queued_ -= n;
  batches_.pop_front();
  attempts_ = 0;
  return n;
}

std::size_t WebhookQueue::push(BatchPtr b) {
  queued_ += b->events;
  batches_.push_back(std::move(b));
  // The oldest waiting batches make room: never the head once tried (its
  // bytes may be on the wire, its retry scheduled), never the newest.
  std::size_t dropped = 0;
  const std::size_t keep_head = attempts_ > 0 ? 1 : 0;
  while (queued_ > options_.max_queued && batches_.size() > keep_head + 1) {
    const auto victim = batches_.begin() + static_cast<std::ptrdiff_t>(keep_head);
    dropped += (*victim)->events;
    queued_ -= (*victim)->events;
    batches_.erase(victim);
  }
  counters_.dropped_queue_full += dropped;
  return dropped;
}

std::optional<Clock::time_point> WebhookQueue::next_wakeup() const {
  if (in_flight_ || batches_.empty()) return std::nullopt;
  return attempts_ > 0 ? retry_at_ : batches_.front()->formed_at;
}

const WebhookBatch* WebhookQueue::next_attempt(Clock::time_point now) {
  if (in_flight_) return nullptr;
  // A batch that waited behind a failing one may be past its time untried.
  while (!batches_.empty() && attempts_ == 0 &&
         now - batches_.front()->formed_at >= options_.retry_for) {
    counters_.dropped_expired += pop_head();
  }
  const auto due = next_wakeup();
  if (!due || now < *due) return nullptr;
  in_flight_ = true;
  ++attempts_;
  return batches_.front().get();
}

void WebhookQueue::acknowledged() {
  if (!in_flight_) return;
  in_flight_ = false;
  ++counters_.batches_sent;
  counters_.events_sent += pop_head();
  backoff_.reset();
}

std::size_t WebhookQueue::failed(Clock::time_point now) {
  if (!in_flight_) return 0;
  in_flight_ = false;
  ++counters_.failures;
  // The waits grow across batches until one is acknowledged: a receiver
  // that is down is not hammered again by each new batch.
  const auto retry_at = now + backoff_.next();
  if (retry_at - batches_.front()->formed_at < options_.retry_for) {
    retry_at_ = retry_at;
    return 0;
  }
  const std::size_t n = pop_head();
  counters_.dropped_expired += n;
  return n;
}

std::size_t WebhookQueue::give_up() {
  const std::size_t n = queued_;
  counters_.dropped_expired += n;
  batches_.clear();
  queued_ = 0;
  attempts_ = 0;
  in_flight_ = false;
  return n;
}

}  // namespace comet
