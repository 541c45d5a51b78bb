#include "gateway/app/cursor_placement.hpp"

#include <tuple>

namespace comet {

CursorPlacement::CursorPlacement(boost::asio::io_context& io, Delivery& delivery,
                                 RedisClient& redis)
    : delivery_(delivery),
      redis_(redis),
      reader_(DurableReaderOptions{},
              [this](const ReadNeed& need, std::size_t count, DurableReader::Reply reply) {
                return send_read(need, count, std::move(reply));
              }),
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
        if (read) {
          resync();  // a window may need the next part
        } else if (!hub().resyncs_needed().empty()) {
          arm_resync_timer();
        }
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
  bool refused = false;
  for (const ReadNeed& need : hub().resyncs_needed()) {
    if (reader_.pending(need)) continue;
    if (!reader_.read(
            need, [](const DurableReader::Result&) {}, Clock::now()))
      refused = true;
  }
  arm_reader_timer();
  // Redis refuses reads now (command connection down): on_command_ready
  // calls again, and so does this timer, whichever is first.
  if (refused) arm_resync_timer();
}

void CursorPlacement::arm_resync_timer() {
  if (resync_armed_) return;
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
  PollReads reads;
  std::size_t outstanding = 0;
  int round = 0;
};

void CursorPlacement::place(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                            const Since& since, std::function<void(const PollReads*)> then) {
  // Another gateway's cursor (or this one's before a restart): its plain
  // channels are answered with a gap, and from then on with what this
  // gateway receives. That gateway may have heard (and delivered) messages
  // this one has not received yet; with a barrier on the subscription first,
  // they are all below the new cursor, so none is delivered twice.
  const bool foreign = since.kind == Since::Kind::cursor && since.cursor.epoch != hub().epoch();
  if (foreign && !delivery_.draining()) {
    auto state = std::make_shared<
        std::tuple<std::vector<std::string>, Since, std::function<void(const PollReads*)>>>(
        std::move(channels), since, std::move(then));
    bool waiting = redis_.sync([this, request, state](bool) {
      if (request->finished()) return;
      auto& [ch, si, th] = *state;
      read_then(request, std::move(ch), si, std::move(th));
    });
    if (waiting) return;
    auto& [ch, si, th] = *state;
    read_then(request, std::move(ch), si, std::move(th));
    return;
  }
  read_then(request, std::move(channels), since, std::move(then));
}

void CursorPlacement::read_then(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                                const Since& since, std::function<void(const PollReads*)> then) {
  auto needs = hub().reads_needed(channels, since);
  if (needs.empty()) {
    then(nullptr);
    return;
  }
  auto rp = std::make_shared<ReadingPoll>();
  rp->request = request;
  rp->channels = std::move(channels);
  rp->since = since;
  rp->then = std::move(then);
  reading_.insert(rp);
  read_round(rp, std::move(needs));
}

// One round: every read asked for; the last to come back (or to fail) ends
// it. Reads can move a window (an eviction, another read applied first), so
// a second round follows when the Hub still needs something; a position
// still not placeable after that is a gap.
void CursorPlacement::read_round(const std::shared_ptr<ReadingPoll>& rp,
                                 std::vector<ReadNeed> needs) {
  ++rp->round;
  rp->outstanding = needs.size();
  for (ReadNeed& need : needs) {
    const std::string name = need.channel;
    bool asked = reader_.read(
        need,
        [this, rp, name](const DurableReader::Result& r) {
          if (r) rp->reads.insert_or_assign(name, *r);
          read_done(rp);
        },
        Clock::now());
    arm_reader_timer();
    // Only the last one can end the round, so nothing after this in the
    // loop runs once it has.
    if (!asked) read_done(rp);
  }
}

void CursorPlacement::read_done(const std::shared_ptr<ReadingPoll>& rp) {
  if (--rp->outstanding > 0) return;
  if (!delivery_.draining() && !rp->request->finished() && rp->round < 2) {
    auto more = hub().reads_needed(rp->channels, rp->since);
    std::erase_if(more, [&](const ReadNeed& n) {
      auto it = rp->reads.find(n.channel);
      return it != rp->reads.end() && it->second.from == n.from;
    });
    if (!more.empty()) {
      read_round(rp, std::move(more));
      return;
    }
  }
  reading_.erase(rp);
  if (rp->request->finished()) return;  // the client went away meanwhile
  rp->then(&rp->reads);
}

}  // namespace comet
