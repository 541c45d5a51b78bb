#include "gateway/app/cursor_placement.hpp"

#include "gateway/util/wall_clock.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

namespace comet {

CursorPlacement::CursorPlacement(boost::asio::io_context& io, Delivery& delivery,
                                 RedisClient& redis, DurableReaderOptions reads,
                                 std::size_t max_reads_per_poll)
    : delivery_(delivery),
      redis_(redis),
      reader_(reads,
              [this](const ReadNeed& need, std::size_t count, DurableReader::Reply reply) {
                return send_read(need, count, std::move(reply));
              }),
      max_reads_per_poll_(max_reads_per_poll),
      resync_timer_(io),
      reader_timer_(io) {}

void CursorPlacement::stop() {
  reader_.fail_all();  // polls still reading: answered unchanged (see place)
  reader_timer_.cancel();
  resync_timer_.cancel();
}

bool CursorPlacement::send_read(const ReadNeed& need, std::size_t count,
                                DurableReader::Reply reply) {
  // The token is taken now, when Redis gets the read: whether the answer
  // may sync a window depends on what the subscription did since then.
  const ReadToken token = hub().read_token(need.channel);
  return redis_.read_stream(
      need.channel, need.from, count,
      [this, need, token, reply = std::move(reply)](std::optional<StreamRead> read) {
        if (read && !delivery_.draining())
          hub().apply_read(need.channel, need.from, *read, token, Clock::now());
        reply(read);  // the polls waiting for it, which see the applied read
        if (delivery_.draining()) return;
        // Parked polls that the read gave messages to.
        hub().flush(Clock::now());
        delivery_.schedule_wakeup();
        // A window may need the next part (apply_read queued it), or the
        // read made room for one that waits: taken off the Hub's queue,
        // no scan of the channels.
        resync();
      });
}

void CursorPlacement::arm_reader_timer() {
  // Reads waiting for the command connection fail after a while (the poll
  // then reports a gap rather than hang).
  const auto next = reader_.next_expiry();
  if (!next || reader_timer_armed_) return;
  reader_timer_armed_ = true;
  reader_timer_.expires_at(*next);
  // Cancelled (stop) or not, nothing of this object is touched on an
  // error: the completion may run after it is gone.
  reader_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    reader_timer_armed_ = false;
    reader_.expire(Clock::now());
    arm_reader_timer();
  });
}

void CursorPlacement::resync() {
  if (delivery_.draining() || !redis_.up()) return;
  while (reader_.has_room()) {
    auto need = hub().next_resync();
    if (!need) break;
    // The read pending answers it; apply_read queues the window again if
    // it still waits then.
    if (reader_.pending(*need)) continue;
    std::string name = need->channel;
    reader_.read(
        *need,
        [this, name](const DurableReader::Result& r) {
          if (r || delivery_.draining()) return;
          // Failed (Redis refused it for too long, or no answer): again
          // later, on the timer or when the command connection is back.
          hub().resync_later(name);
          arm_resync_timer();
        },
        Clock::now());
  }
  // No room: each read that completes calls again.
  arm_reader_timer();
}

void CursorPlacement::arm_resync_timer() {
  if (resync_armed_ || delivery_.draining()) return;
  resync_armed_ = true;
  resync_timer_.expires_after(std::chrono::milliseconds(500));
  resync_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // as above
    resync_armed_ = false;
    resync();
  });
}

struct CursorPlacement::ReadingPoll {
  fcgi::RequestPtr request;
  std::vector<std::string> channels;
  Since since;
  std::function<void(const PollReads*)> then;
  bool caught_up = false;  // ours, or placed after a barrier
  PollReads reads;
  std::size_t outstanding = 0;
  std::size_t asked = 0;  // reads asked for, every round
  std::size_t held = 0;   // bytes of answers in `reads`, held in the reader's budget
  int round = 0;
};

void CursorPlacement::place(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                            const Since& since, std::function<void(const PollReads*)> then) {
  // A cursor the Hub cannot place yet: another gateway's order (or this
  // one's before a restart), or a stream position that this gateway has
  // not heard up to (another gateway heard it first) or does not hold. A
  // barrier on the subscription first: once it is back, this gateway has
  // heard everything that gateway had, so a stream position is placed
  // exactly, and what still cannot be placed is answered with a gap, and
  // from then on with what this gateway receives (none of it delivered
  // twice).
  const CursorSource source =
      since.kind == Since::Kind::cursor ? hub().source_of(since.cursor) : CursorSource::own;
  const bool foreign = source == CursorSource::unplaced;
  if (foreign && !delivery_.draining()) {
    auto state = std::make_shared<
        std::tuple<std::vector<std::string>, Since, std::function<void(const PollReads*)>>>(
        std::move(channels), since, std::move(then));
    bool waiting = redis_.sync([this, request, state](bool caught_up) {
      if (request->finished()) return;
      auto& [ch, si, th] = *state;
      read_then(request, std::move(ch), si, caught_up, std::move(th));
    });
    if (waiting) return;
    auto& [ch, si, th] = *state;
    read_then(request, std::move(ch), si, false, std::move(th));
    return;
  }
  // A stream position placed without a barrier: its durable positions may
  // come from stream reads of the gateway that issued it, ahead of what
  // this one has heard, so those are read rather than refused.
  read_then(request, std::move(channels), since, source == CursorSource::own, std::move(then));
}

void CursorPlacement::read_then(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                                const Since& since, bool caught_up,
                                std::function<void(const PollReads*)> then) {
  if (since.kind != Since::Kind::cursor || since.cursor.positions.empty()) {
    then(nullptr);
    return;
  }
  auto rp = std::make_shared<ReadingPoll>();
  rp->request = request;
  rp->channels = std::move(channels);
  rp->since = since;
  rp->caught_up = caught_up;
  rp->then = std::move(then);
  auto needs = plan(*rp);
  if (needs.empty()) {
    rp->then(rp->reads.gaps.empty() ? nullptr : &rp->reads);
    return;
  }
  reading_.insert(rp);
  read_round(rp, std::move(needs));
}

std::vector<ReadNeed> CursorPlacement::plan(ReadingPoll& rp) {
  ReadLimits limits;
  limits.max_reads = max_reads_per_poll_ - std::min(rp.asked, max_reads_per_poll_);
  limits.wall_ms = static_cast<std::uint64_t>(wall_ms());
  limits.caught_up = rp.caught_up;
  ReadPlan p =
      hub().reads_needed(rp.channels, rp.since, limits, rp.round > 0 ? &rp.reads : nullptr);
  for (auto& [name, why] : p.refused) {
    // A second round finds the first one's refusals again: counted once.
    if (rp.reads.gaps.insert(std::move(name)).second) ++counters_.refused[std::size_t(why)];
  }
  if (rp.round == 0) counters_.unmatched += p.unmatched;
  return std::move(p.reads);
}

// One round: every read asked for; the last to come back (or to fail) ends
// it. Reads can move a window (an eviction, another read applied first), so
// a second round follows when the Hub still needs something; a position
// still not placeable after that is a gap.
void CursorPlacement::read_round(const std::shared_ptr<ReadingPoll>& rp,
                                 std::vector<ReadNeed> needs) {
  ++rp->round;
  rp->outstanding = needs.size();
  rp->asked += needs.size();
  for (ReadNeed& need : needs) {
    const std::string name = need.channel;
    bool asked = reader_.read(
        need,
        [this, rp, name](const DurableReader::Result& r) {
          if (r) {
            // Held until the poll is answered, in the reader's byte budget
            // (a second round's read replaces the first one's).
            auto it = rp->reads.reads.find(name);
            if (it != rp->reads.reads.end()) {
              const std::size_t old = it->second.bytes();
              reader_.release(old);
              rp->held -= std::min(rp->held, old);
              it->second = *r;
            } else {
              it = rp->reads.reads.emplace(name, *r).first;
            }
            const std::size_t n = it->second.bytes();
            reader_.hold(n);
            rp->held += n;
          }
          read_done(rp);
        },
        Clock::now());
    arm_reader_timer();
    if (!asked) {
      // No budget left for a new read: a gap rather than a queue that grows.
      if (rp->reads.gaps.insert(name).second)
        ++counters_.refused[std::size_t(PositionRefusal::budget)];
      // Only the last one can end the round, so nothing after this in the
      // loop runs once it has.
      read_done(rp);
    }
  }
}

void CursorPlacement::read_done(const std::shared_ptr<ReadingPoll>& rp) {
  if (--rp->outstanding > 0) return;
  if (!delivery_.draining() && !rp->request->finished() && rp->round < 2) {
    auto more = plan(*rp);
    if (!more.empty()) {
      read_round(rp, std::move(more));
      return;
    }
  }
  finish(rp);
}

void CursorPlacement::finish(const std::shared_ptr<ReadingPoll>& rp) {
  reading_.erase(rp);
  reader_.release(rp->held);
  rp->held = 0;
  if (rp->request->finished()) return;  // the client went away meanwhile
  rp->then(&rp->reads);
}

}  // namespace comet
