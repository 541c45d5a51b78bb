// The batches waiting for one webhook URL, and when to send which: one
// batch out at a time, in order; retries with full-jitter backoff; giving
// up on a batch `retry_for` after it was formed; a bound on the events held.
// Sans-IO on injected time: the sender asks next_attempt(now), makes the
// POST, and reports acknowledged() or failed(); next_wakeup() says when to
// ask again. Batches are formed once (WebhookBatcher) and shared by every
// URL's queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "gateway/core/backoff.hpp"
#include "gateway/core/clock.hpp"

namespace comet {

struct WebhookQueueOptions {
  // Events held, the batch out included; past it the oldest waiting batches
  // are dropped. The batch out and the newest are always kept.
  std::size_t max_queued = 10000;
  // A batch not acknowledged this long after it was formed is dropped.
  Clock::duration retry_for = std::chrono::seconds(60);
  std::chrono::milliseconds backoff_min{250};
  std::chrono::milliseconds backoff_max{15000};
};

// One formed batch, as every URL gets it.
struct WebhookBatch {
  std::size_t events = 0;
  Clock::time_point formed_at;
  std::string body;  // encoded once by whoever formed it (http/webhook_json)
};

struct WebhookCounters {
  std::uint64_t events_sent = 0;  // in acknowledged batches
  std::uint64_t batches_sent = 0;
  std::uint64_t failures = 0;  // failed attempts
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_expired = 0;  // not acknowledged within retry_for, or given up
};

class WebhookQueue {
 public:
  using BatchPtr = std::shared_ptr<const WebhookBatch>;

  explicit WebhookQueue(WebhookQueueOptions options = {}, Backoff::Random random = {});

  // Queues `b` behind the others. Returns how many events of older waiting
  // batches were dropped to stay within max_queued (counted).
  std::size_t push(BatchPtr b);

  // The batch to POST now, if one is due; each non-null answer is one
  // attempt, to be reported with acknowledged() or failed(). Null while an
  // attempt is out, before a retry's wait has passed, or when nothing
  // waits. Batches that waited past retry_for are dropped here, untried.
  const WebhookBatch* next_attempt(Clock::time_point now);
  // The attempt got a 2xx: the batch is done.
  void acknowledged();
  // The attempt failed (status, connection, time-out): the batch is tried
  // again after a backoff, or dropped when that would start `retry_for` or
  // more after it was formed. Returns how many events were dropped (0:
  // retried).
  std::size_t failed(Clock::time_point now);

  // When next_attempt() has something to do; nullopt while an attempt is
  // out or nothing waits.
  std::optional<Clock::time_point> next_wakeup() const;

  // Drops everything not acknowledged (counted as expired); returns how
  // many events.
  std::size_t give_up();

  bool empty() const { return batches_.empty(); }
  bool in_flight() const { return in_flight_; }
  // Attempts made of the batch at the head, the one out included.
  int attempts() const { return attempts_; }
  std::size_t queued() const { return queued_; }
  const WebhookCounters& counters() const { return counters_; }

 private:
  std::size_t pop_head();  // returns its events

  WebhookQueueOptions options_;
  Backoff backoff_;
  std::deque<BatchPtr> batches_;  // the head is the one out or to retry
  std::size_t queued_ = 0;        // their events
  Clock::time_point retry_at_{};  // of the head, once tried
  int attempts_ = 0;
  bool in_flight_ = false;
  WebhookCounters counters_;
};

}  // namespace comet
