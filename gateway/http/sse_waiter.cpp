#include "gateway/http/sse_waiter.hpp"

#include <algorithm>

#include "gateway/http/delivery.hpp"
#include "gateway/http/json.hpp"
#include "gateway/http/sse_endpoint.hpp"

namespace comet {

SseWaiter::SseWaiter(SseEndpoint& owner, fcgi::RequestPtr request,
                     std::vector<std::string> channels, Clock::time_point end_at,
                     ClientBudget::Share* client, PresenceHold hold)
    : owner_(owner),
      request_(std::move(request)),
      channels_(std::move(channels)),
      end_at_(end_at),
      client_(client),
      hold_(std::move(hold)) {
  request_->set_abort_listener(this);
}

SseWaiter::~SseWaiter() {
  request_->set_abort_listener(nullptr);
  owner_.clients().release(client_, channels_.size());
}

void SseWaiter::start(const Since& since, const PollReads* reads,
                      std::span<const std::string> lists) {
  pump(nullptr, since, reads, lists);
}

Delivery& SseWaiter::delivery() {
  return owner_.delivery();
}

std::string SseWaiter::encode(const Batch& batch) {
  std::string out;
  if (!batch.gaps.empty()) {
    out += "event: gap\ndata: {\"channels\":[";
    for (std::size_t i = 0; i < batch.gaps.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, batch.gaps[i]);
    }
    out += "]}\n\n";
  }
  // The cursor after each message: the start, moved past it (its seq and
  // stream position; its stream id on its channel, when the batch gives
  // that channel a position). A message read from its stream for this
  // answer alone (seq 0) moves only its position.
  Cursor at = batch.start;
  at.epoch = batch.cursor.epoch;
  for (const auto& m : batch.messages) {
    if (m->seq > at.seq) {
      at.seq = m->seq;
      at.stream = m->stream;
    }
    if (m->durable) {
      const std::uint64_t h = channel_hash(m->channel);
      auto by_hash = [](const Position& p, std::uint64_t v) { return p.hash < v; };
      const auto& end = batch.cursor.positions;
      auto e = std::lower_bound(end.begin(), end.end(), h, by_hash);
      if (e != end.end() && e->hash == h) {
        auto it = std::lower_bound(at.positions.begin(), at.positions.end(), h, by_hash);
        if (it != at.positions.end() && it->hash == h) {
          it->id = m->id;
        } else {
          at.positions.insert(it, Position{h, m->id});
        }
      }
    }
    out += "id: ";
    out += format_cursor(at);
    out += "\ndata: ";
    out += m->encoded;  // JSON has no raw newlines: one data line
    out += "\n\n";
  }
  // A comment keeps idle streams (and every proxy on the way) alive; the
  // id line moves Last-Event-ID to where the client resumes, without an
  // event.
  if (batch.messages.empty() && batch.gaps.empty()) out += ": keepalive\n";
  out += "id: ";
  out += format_cursor(batch.cursor);
  out += "\n\n";
  return out;
}

void SseWaiter::pump(BatchPtr batch, Since since, const PollReads* reads,
                     std::span<const std::string> lists) {
  for (;;) {
    if (batch && !batch->gaps.empty()) lists_after_gap(*batch);
    if (batch) {
      delivery().responder().count_delivery(*batch);
      request_->write(fcgi::Response{{}, delivery().responder().sse_events(*batch), {}});
      since = Since{Since::Kind::cursor, batch->cursor};
    }
    const auto now = Clock::now();
    if (delivery().draining() || now >= end_at_ || request_->finished() ||
        !delivery().hub().can_park()) {
      request_->end();
      owner_.finished(*this);
      return;
    }
    const auto wait = std::min<Clock::duration>(delivery().sse_keepalive(), end_at_ - now);
    // Member lists to start with: answered at once, with them first.
    PollResult r = delivery().hub().poll(*this, channels_, since,
                                         lists.empty() ? wait : Clock::duration(0), now, reads);
    reads = nullptr;  // they placed the stream's start; from here on, memory
    if (!lists.empty() && r.status == PollStatus::answered) {
      r.batch = with_members(r.batch, lists, owner_.presence());
      lists = {};
    }
    if (r.status == PollStatus::parked) {
      delivery().schedule_wakeup();
      return;
    }
    if (r.status != PollStatus::answered) {
      // Refused (full since the check above, or a cursor not ours): the
      // client resumes from the last id it got.
      request_->end();
      owner_.finished(*this);
      return;
    }
    batch = std::move(r.batch);
  }
}

void SseWaiter::lists_after_gap(const Batch& batch) {
  auto lists = gapped_presence(batch, owner_.presence());
  if (lists.empty()) return;
  // The lists as they are once read (a loss of the subscription forgets
  // them), written when they are: a later list than the gap's, which the
  // events after it then bring up to date.
  owner_.presence().prepare(lists, [request = request_, lists, &owner = owner_](bool ok) {
    if (!ok || request->finished()) return;
    auto here = with_members(std::make_shared<Batch>(), lists, owner.presence());
    std::string text;
    for (const auto& m : here->messages) text += "data: " + m->encoded + "\n\n";
    if (!text.empty())
      request->write(fcgi::Response{{}, std::make_shared<const std::string>(std::move(text)), {}});
  });
}

void SseWaiter::on_release(const BatchPtr& batch) {
  pump(batch, {});
}

void SseWaiter::on_abort() {
  owner_.finished(*this);  // which unlinks it from the Hub
}

}  // namespace comet
