// The Hub: channels, their message buffers and wait queues, and the single
// order in which messages are numbered. Pure logic: no sockets, no clock
// (time is passed in), owned by one event loop, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/batch.hpp"
#include "gateway/clock.hpp"
#include "gateway/cursor.hpp"
#include "gateway/waiter.hpp"

namespace comet {

struct HubOptions {
  // Per-channel buffer: the oldest messages are dropped past any bound, and
  // a cursor before a dropped message is answered with a gap.
  std::size_t buffer_max_messages = 1000;
  std::size_t buffer_max_bytes = 8 * 1024 * 1024;
  Clock::duration buffer_max_age = std::chrono::minutes(5);
  // One response: at most this many messages / bytes of message JSON. The
  // byte cap is soft: a batch always carries at least one message.
  std::size_t batch_max_messages = 1000;
  std::size_t batch_max_bytes = 1024 * 1024;
  // Parked waiters in all; poll() refuses past it (HTTP 503).
  std::size_t max_waiters = 1'000'000;
  // A deadline is drawn uniformly from [timeout * (1 - jitter), timeout], so
  // that polls parked together do not all return together.
  double timeout_jitter = 0.1;
  // Deadlines are kept in slots of this width (a timing wheel): a million
  // parked waiters cost no per-waiter timer.
  Clock::duration tick = std::chrono::milliseconds(100);
  std::uint64_t seed = 1;  // for the jitter
};

struct HubCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t messages_delivered = 0;  // message copies in responses
  std::uint64_t gaps = 0;                // channel names reported in gaps
  std::uint64_t messages_dropped = 0;    // evicted from buffers
};

class Hub {
 public:
  // `epoch` tells this gateway's cursors from any other's (random per start).
  Hub(HubOptions options, std::uint64_t epoch);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  std::uint64_t epoch() const;
  // The cursor after the newest message.
  Cursor head() const;

  // The ordering point: numbers the message, encodes its JSON once and
  // appends it to its channel's buffer. Completes no waiter: call flush()
  // after a burst, so one response carries the whole burst.
  MessagePtr publish(std::string_view channel, std::string_view payload, Clock::time_point now);
  // Releases every parked waiter that has messages now. Completes waiters.
  std::size_t flush(Clock::time_point now);

  // Messages for plain channels were lost (the subscription was down): every
  // cursor issued before this call now names a gap for its channels, and
  // every parked waiter is released with one. Completes waiters.
  void gap_all(Clock::time_point now);

  // A poll on `channels` (valid names, duplicates allowed) from `since`.
  // Returns the batch when there is something to say now (messages, gaps,
  // timeout == 0); otherwise parks `w` until flush/gap_all/expire/
  // release_all and returns nullptr. A cursor from a future position of
  // this epoch is not ours: throws std::invalid_argument (HTTP 400).
  BatchPtr poll(Waiter& w, std::span<const std::string> channels, const Since& since,
                Clock::duration timeout, Clock::time_point now);
  bool can_park() const;
  // Unlinks a parked waiter without answering it (the client went away).
  void cancel(Waiter& w);

  // Releases waiters whose deadline has passed with an empty batch, drops
  // messages past the age bound, forgets channels with nothing left.
  // Completes waiters.
  void expire(Clock::time_point now);
  // When expire() has work next: the next deadline slot, or the oldest
  // buffered message's age-out; nullopt when there is nothing to do.
  std::optional<Clock::time_point> next_wakeup() const;

  // Shutdown: every parked waiter gets an empty batch with its cursor.
  // Completes waiters.
  void release_all();

  std::size_t parked() const;
  std::size_t channels() const;  // with waiters or buffered messages
  const HubCounters& counters() const;

 private:
  struct Impl;
  Impl* impl_;
  friend class Waiter;
};

}  // namespace comet
