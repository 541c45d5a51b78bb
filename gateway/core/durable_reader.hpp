// Stream reads for durable channels, between the Hub and Redis: identical
// reads (same channel, same position) are sent once and answer everyone who
// asked; at most max_in_flight are sent at a time, the rest wait in order;
// every requester hears back exactly once (nullopt: failed, so the poll
// reports a gap instead of hanging). Owned by one event loop; sending is
// injected, so this is tested without Redis.
//
// One budget for all of it, by count and by bytes: reads in flight and
// queued are at most max_reads, and each of them reserves max_bytes /
// max_reads until it is answered; answers then cost their own size while
// their requesters hold them (hold/release). A new read is refused while
// the reservations and the answers held would pass max_bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/clock.hpp"
#include "gateway/core/stream_read.hpp"

namespace comet {

struct DurableReaderOptions {
  std::size_t max_in_flight = 16;            // reads sent to Redis and not answered
  std::size_t max_reads = 64;                // reads in flight and queued; beyond, refused
  std::size_t max_bytes = 64 * 1024 * 1024;  // reserved and held (see above)
  std::size_t count = 1000;                  // entries per read
  // A read Redis cannot take now (command connection down or not up yet,
  // as right after a start) waits this long for it, then fails.
  Clock::duration wait_for_redis = std::chrono::seconds(2);
};

class DurableReader {
 public:
  using Result = std::optional<StreamRead>;
  using Reply = std::function<void(Result)>;
  // Sends one read; false when it cannot be sent now (then `reply` is never
  // called). Otherwise `reply` runs exactly once, later.
  using Send = std::function<bool(const ReadNeed& need, std::size_t count, Reply reply)>;
  using Done = std::function<void(const Result& result)>;

  DurableReader(DurableReaderOptions options, Send send);

  // Reads `need` (joining an identical read already asked for, which costs
  // no budget). False when the budget has no room for a new read: `done`
  // is then not called. Otherwise `done` runs exactly once, never from
  // inside this call.
  bool read(const ReadNeed& need, Done done, Clock::time_point now);
  bool pending(const ReadNeed& need) const;
  // Whether a new read would be taken now.
  bool has_room() const;
  // Answers a requester keeps (until its poll is answered) count against
  // the byte budget: `bytes` as StreamRead::bytes() says.
  void hold(std::size_t bytes) { held_ += bytes; }
  void release(std::size_t bytes) { held_ -= std::min(bytes, held_); }
  // Reserved by reads not answered, plus answers held.
  std::size_t bytes() const { return entries_.size() * reserve() + held_; }
  std::size_t reads() const { return entries_.size(); }  // in flight and queued
  // Redis can take reads again: sends what waits.
  void resume();
  // Fails reads that waited for Redis past wait_for_redis.
  void expire(Clock::time_point now);
  // When expire() has work next.
  std::optional<Clock::time_point> next_expiry() const;
  // Every requester hears nullopt now (shutdown); replies still in flight
  // are ignored when they come.
  void fail_all();

  std::size_t in_flight() const { return in_flight_; }
  std::size_t queued() const { return queue_.size(); }

 private:
  using Key = std::pair<std::string, StreamId>;
  struct Entry {
    std::uint64_t id;
    std::vector<Done> waiters;
    bool sent = false;
    Clock::time_point deadline;  // while waiting for Redis
  };
  std::size_t reserve() const { return options_.max_bytes / options_.max_reads; }
  void pump();
  void fail(std::map<Key, Entry>::iterator it);
  // Sends the entry of `key`; false when Send refused it.
  bool send(const Key& key);
  void complete(const Key& key, std::uint64_t id, const Result& result);

  DurableReaderOptions options_;
  Send send_;
  std::map<Key, Entry> entries_;
  std::deque<Key> queue_;
  std::size_t in_flight_ = 0;
  std::size_t held_ = 0;
  std::uint64_t next_id_ = 0;
};

}  // namespace comet
