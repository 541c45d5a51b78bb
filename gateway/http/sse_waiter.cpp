#include "gateway/http/sse_waiter.hpp"

#include <algorithm>

#include "gateway/http/delivery.hpp"
#include "gateway/http/json.hpp"

namespace comet {

SseWaiter::SseWaiter(Delivery& delivery, fcgi::RequestPtr request,
                     std::vector<std::string> channels, Clock::time_point end_at)
    : delivery_(delivery),
      request_(std::move(request)),
      channels_(std::move(channels)),
      end_at_(end_at) {
  request_->set_abort_listener(this);
}

SseWaiter::~SseWaiter() {
  request_->set_abort_listener(nullptr);
}

void SseWaiter::open(Delivery& delivery, fcgi::RequestPtr request,
                     std::vector<std::string> channels, const Since& since, std::string head,
                     Clock::time_point end_at, const PollReads* reads) {
  request->write(fcgi::Response{std::move(head), nullptr, {}});
  auto* w = new SseWaiter(delivery, std::move(request), std::move(channels), end_at);
  w->pump(nullptr, since, reads);
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
  // The cursor after each message: the start, moved past it (its seq; its
  // stream id on its channel, when the batch gives that channel a position).
  Cursor at = batch.start;
  at.epoch = batch.cursor.epoch;
  for (const auto& m : batch.messages) {
    at.seq = std::max(at.seq, m->seq);
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

void SseWaiter::pump(BatchPtr batch, Since since, const PollReads* reads) {
  for (;;) {
    if (batch) {
      delivery_.responder().count_delivery(*batch);
      request_->write(fcgi::Response{{}, delivery_.responder().sse_events(*batch), {}});
      since = Since{Since::Kind::cursor, batch->cursor};
    }
    const auto now = Clock::now();
    if (delivery_.draining() || now >= end_at_ || request_->finished() ||
        !delivery_.hub().can_park()) {
      request_->end();
      delete this;
      return;
    }
    const auto wait = std::min<Clock::duration>(delivery_.sse_keepalive(), end_at_ - now);
    PollResult r = delivery_.hub().poll(*this, channels_, since, wait, now, reads);
    reads = nullptr;  // they placed the stream's start; from here on, memory
    if (r.status == PollStatus::parked) {
      delivery_.schedule_wakeup();
      return;
    }
    if (r.status != PollStatus::answered) {
      // Refused (full since the check above, or a cursor not ours): the
      // client resumes from the last id it got.
      request_->end();
      delete this;
      return;
    }
    batch = std::move(r.batch);
  }
}

void SseWaiter::on_release(const BatchPtr& batch) {
  pump(batch, {});
}

void SseWaiter::on_abort() {
  delivery_.hub().cancel(*this);
  delete this;
}

}  // namespace comet
