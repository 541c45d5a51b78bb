// Placement of cursors across gateways and restarts (http/placement.hpp),
// and the resync of durable windows after a Redis loss.
//
// Another gateway's cursor (or this one's before a restart) is placed
// after a barrier on the subscription: that gateway may have delivered
// messages this one has not received yet, and once the barrier's marker is
// back, all of them are below the new cursor, so none is delivered twice.
// Durable positions that the Hub cannot place from what it holds are read
// from their streams (DurableReader, then RedisClient), in up to two rounds,
// at most max_reads_per_poll reads per poll in all and within the reader's
// budget; positions refused (Hub::reads_needed, or no budget left) are
// answered with a gap and counted by reason.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <set>

#include "gateway/core/durable_reader.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/placement.hpp"
#include "gateway/redis/redis_client.hpp"

namespace comet {

struct PlacementCounters {
  std::array<std::uint64_t, kPositionRefusals> refused{};  // by PositionRefusal
  std::uint64_t unmatched = 0;  // positions naming no channel of their poll
};

class CursorPlacement final : public Placement {
 public:
  CursorPlacement(boost::asio::io_context& io, Delivery& delivery, RedisClient& redis,
                  DurableReaderOptions reads = {}, std::size_t max_reads_per_poll = 4);

  void place(const fcgi::RequestPtr& request, std::vector<std::string> channels, const Since& since,
             std::function<void(const PollReads*)> then) override;

  // Reads the stream of every durable window that waits for it (after a
  // Redis loss); retries on a timer while Redis refuses. Only while
  // subscribed: a read sent before could not sync anything.
  void resync();
  // Shutdown: polls waiting for their reads are answered (unchanged), the
  // timers stop.
  void stop();

  const PlacementCounters& counters() const { return counters_; }
  std::size_t reads_pending() const { return reader_.reads(); }  // in flight and queued
  std::size_t read_bytes() const { return reader_.bytes(); }

 private:
  struct ReadingPoll;
  Hub& hub() { return delivery_.hub(); }
  void read_then(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                 const Since& since, bool caught_up, std::function<void(const PollReads*)> then);
  // What the Hub needs read for `rp` now; refusals go to its gaps.
  std::vector<ReadNeed> plan(ReadingPoll& rp);
  void read_round(const std::shared_ptr<ReadingPoll>& rp, std::vector<ReadNeed> needs);
  void read_done(const std::shared_ptr<ReadingPoll>& rp);
  void finish(const std::shared_ptr<ReadingPoll>& rp);
  void arm_reader_timer();
  void arm_resync_timer();
  bool send_read(const ReadNeed& need, std::size_t count, DurableReader::Reply reply);

  Delivery& delivery_;
  RedisClient& redis_;
  DurableReader reader_;
  std::size_t max_reads_per_poll_;
  PlacementCounters counters_;
  // Polls waiting for their stream reads (answered at shutdown).
  std::set<std::shared_ptr<ReadingPoll>> reading_;
  boost::asio::steady_timer resync_timer_;
  bool resync_armed_ = false;
  boost::asio::steady_timer reader_timer_;
  bool reader_timer_armed_ = false;
};

}  // namespace comet
