// The Hub's durable channels: windows of stream ids that follow a channel's
// Redis stream, synced by reads (apply_read) and broken by a lost link;
// placing a cursor's stream positions (position_at, seq_after); the reads a
// poll or a resync needs; answers straight from a read (direct_batch).
// The Hub's other half is hub.cpp.
#include <algorithm>

#include "gateway/core/detail/channel.hpp"
#include "gateway/core/detail/hub_inline.hpp"
#include "gateway/core/detail/poll_lookup.hpp"
#include "gateway/core/hub.hpp"

namespace comet {
using detail::DurableWindow;
using detail::first_after;
using detail::first_id_after;
using detail::positions_of;
using detail::sorted_names;

std::uint64_t Hub::seq_after(const Channel& c, StreamId p) const {
  const auto& buf = c.buffer;
  auto it = first_id_after(first_after(buf, c.window->base_seq), buf.end(), p);
  return it == buf.end() ? last_seq_ : (*it)->seq - 1;
}

// DESIGN: which durable positions a gateway could have issued.
//
// A position is a channel hash and a stream id. Any gateway gives a client
// a position only for a channel of that client's poll, only with the id of
// a message of that channel's stream it delivered (or the position the
// client sent), and a stream id is made by Redis from its clock. So a
// position of a poll on `channels` is one no gateway issued, and is
// answered without a stream read, when
//   - its hash is that of no channel of the poll, or of two: ignored (it
//     names nothing this poll can be told about; the next cursor drops it);
//   - its id's time is more than position_skew ahead of the wall clock
//     (`future`): a gap;
//   - the channel's window here is synced, the subscription is up, the
//     subscription has caught up with the cursor (the cursor is this
//     instance's, or another's after a barrier: every message any gateway
//     delivered before it has been received here) and the id is ahead of
//     the window's top (`ahead`): a gap. Without the barrier it may be a
//     message still on its way here, and is read up to, as before.
// Duplicate hashes cannot reach here (parse_cursor refuses them). What
// remains could have been issued and is placed from memory or read, one
// read per channel at most and at most `max_reads` per poll (`per_poll`
// past it: a gap, so that no request makes more reads than that).
ReadPlan Hub::reads_needed(std::span<const std::string> channels, const Since& since,
                           const ReadLimits& limits, const PollReads* done) const {
  ReadPlan out;
  if (since.kind != Since::Kind::cursor || since.cursor.positions.empty()) return out;
  const auto names = sorted_names(channels);
  const auto ps = positions_of(names, since);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!ps[i]) continue;
    ++matched;
    const StreamId p = *ps[i];
    auto refuse = [&](PositionRefusal why) { out.refused.emplace_back(names[i], why); };
    if (limits.wall_ms && p.ms > *limits.wall_ms &&
        p.ms - *limits.wall_ms > static_cast<std::uint64_t>(options_.position_skew.count())) {
      refuse(PositionRefusal::future);
      continue;
    }
    auto it = channels_.find(names[i]);
    const Channel* c = it == channels_.end() ? nullptr : it->second.get();
    ReadNeed need{std::string(names[i]), p};
    if (c != nullptr && c->window && p >= c->window->base) {
      const DurableWindow& w = *c->window;
      if (p <= w.top) continue;  // placed from memory
      if (w.synced && link_up_ && limits.caught_up) {
        refuse(PositionRefusal::ahead);
        continue;
      }
      // Another gateway heard more already: read up to it here too, or its
      // messages would reach this client a second time when heard live.
      need.from = w.top;
    }
    if (done != nullptr) {
      auto d = done->reads.find(need.channel);
      if (d != done->reads.end() && d->second.from == need.from) continue;
    }
    if (out.reads.size() >= limits.max_reads) {
      refuse(PositionRefusal::per_poll);
      continue;
    }
    out.reads.push_back(std::move(need));
  }
  out.unmatched = since.cursor.positions.size() - matched;
  return out;
}

std::optional<ReadNeed> Hub::next_resync() {
  while (!resyncs_.empty()) {
    const std::string name = std::move(resyncs_.front());
    resyncs_.pop_front();
    auto it = channels_.find(name);
    // Gone, or queued again under a new channel of that name: skipped.
    if (it == channels_.end() || !it->second->resync_queued) continue;
    Channel& c = *it->second;
    c.resync_queued = false;
    if (c.window && !c.window->synced) return ReadNeed{c.name, c.window->top};
  }
  return std::nullopt;
}

void Hub::resync_later(std::string_view channel) {
  auto it = channels_.find(channel);
  if (it != channels_.end()) queue_resync(*it->second);
}

void Hub::queue_resync(Channel& c) {
  if (c.resync_queued || !c.window || c.window->synced) return;
  c.resync_queued = true;
  resyncs_.push_back(c.name);
}

ReadToken Hub::read_token(std::string_view channel) const {
  ReadToken t{link_gen_, link_up_, std::nullopt};
  auto it = channels_.find(channel);
  if (it != channels_.end() && it->second->window) t.window_gen = it->second->window->gen;
  return t;
}

void Hub::link_down() {
  link_up_ = false;
  ++link_gen_;
  for (auto& [name, c] : channels_) {
    if (!c->window) continue;
    c->window->synced = false;
    c->window->gen = ++window_gens_;
    queue_resync(*c);
  }
}

void Hub::link_up() {
  link_down();  // the same for windows: a read sent from now on syncs them
  link_up_ = true;
}

void Hub::start_window(Channel& c, StreamId base, bool synced) {
  DurableWindow w;
  w.base = w.top = base;
  w.base_seq = w.start_seq = last_seq_;
  w.synced = synced;
  w.gen = ++window_gens_;
  c.window = std::make_unique<detail::DurableWindow>(std::move(w));
}

void Hub::drain_pending(Channel& c, Clock::time_point now) {
  auto pending = std::move(c.window->pending);
  c.window->pending.clear();
  c.window->pending_bytes = 0;
  for (const auto& [id, payload] : pending) {
    if (id > c.window->top) {
      append(c, payload, now, &id, false);
    } else {
      ++counters_.durable_duplicates;
    }
  }
}

void Hub::apply_read(std::string_view channel, StreamId from, const StreamRead& read,
                     const ReadToken& token, Clock::time_point now) {
  see(now);
  // The window the read was sent for has been forgotten since (nobody held
  // the channel): nothing to start again. A poll that asked for the read
  // answers from it directly. Starting a window here would start it
  // unsynced, queue a resync, and, forgotten again meanwhile, loop.
  if (token.window_gen && !channels_.contains(channel)) return;
  Channel& c = get_or_create(channel);
  // Sent while subscribed, no loss since, and up to the stream's end: every
  // later message arrives live.
  const bool live_after = token.link_up && token.link_gen == link_gen_ && read.complete;
  auto append_after_top = [&] {
    for (const StreamEntry& e : read.entries) {
      if (e.id > c.window->top) {
        ++counters_.messages_received;
        append(c, e.payload, now, &e.id, false);
      }
    }
  };
  if (!c.window) {
    // A window that existed when the read was sent and is gone now (a plain
    // message ended it) must not come back from that read. No stream: what
    // followed `from` is unknown, so the window starts past it and a client
    // there is told (it reads the stream, which says none).
    StreamId base = read.base;
    if (read.status == StreamRead::Status::none && from != StreamId{}) {
      base = StreamId{from.ms, from.seq + 1};
    }
    start_window(c, base, live_after && !token.window_gen);
    append_after_top();
  } else {
    DurableWindow& w = *c.window;
    const bool current = token.window_gen == w.gen;
    // The stream no longer holds what followed top: entries were trimmed,
    // or the stream is gone (expired, or lost with a Redis that restarted
    // without persistence), so it cannot say what followed top.
    const bool lost_after_top =
        read.base > w.top || (read.status == StreamRead::Status::none && from == w.top);
    if (!lost_after_top) {
      // The read covers the stream from at or below top: what it has past
      // top continues the window.
      append_after_top();
      if (!w.synced && current && live_after) w.synced = true;
    } else if (!w.synced && current) {
      // Catching up after a loss: the window starts again past every
      // position it gave out, so that clients there read the stream
      // themselves and are told of the gap. Parked ones get it from the
      // evicted messages (seq_gap) when released.
      while (!c.buffer.empty()) evict_front(c);
      const StreamId past{w.top.ms, w.top.seq + 1};
      start_window(c, std::max(read.base, past), live_after);
      append_after_top();
      mark_dirty(c);
    }
    // Else a read older than the window's state: the subscription (or the
    // resync in flight) covers it.
  }
  if (c.window->synced && !c.window->pending.empty()) drain_pending(c, now);
  queue_resync(c);  // still waiting: the next part, or a read sent after a loss
  note_maybe_idle(c);
}

BatchPtr Hub::direct_batch(std::span<ChannelRef> refs, const std::vector<std::size_t>& direct,
                           const std::vector<StreamId>& from, const PollReads& reads,
                           std::optional<std::uint64_t> placed) const {
  // Positions behind what is held: answered from the reads alone, at once;
  // the client's next poll (positions moved on) continues from memory.
  auto b = std::make_shared<Batch>();
  std::vector<std::optional<StreamId>> ends;
  for (const ChannelRef& r : refs) {
    ends.push_back(r.start);
    if (r.gap) b->gaps.emplace_back(r.name);
  }
  const std::size_t max_messages = std::max<std::size_t>(options_.batch_max_messages, 1);
  std::size_t bytes = 0;
  bool full = false;
  for (std::size_t k = 0; k < direct.size(); ++k) {
    const std::size_t i = direct[k];
    const StreamRead& read = reads.reads.find(refs[i].name)->second;
    if (read.status != StreamRead::Status::ok && from[k] != StreamId{}) {
      b->gaps.emplace_back(refs[i].name);
    }
    std::optional<StreamId> last;
    for (const StreamEntry& e : read.entries) {
      if (full) break;
      auto m = std::make_shared<Message>();
      m->received = last_now_.value_or(Clock::time_point{});
      m->channel.assign(refs[i].name);
      m->durable = true;
      m->id = e.id;
      m->encoded = encoder_.message(refs[i].name, e.id.text(), e.payload);
      if (!b->messages.empty() && (b->messages.size() >= max_messages ||
                                   bytes + m->encoded.size() > options_.batch_max_bytes)) {
        full = true;
        break;
      }
      bytes += m->encoded.size();
      last = e.id;
      b->messages.push_back(std::move(m));
    }
    if (last) {
      ends[i] = last;
    } else if (read.status != StreamRead::Status::ok) {
      ends[i] = position_at(refs[i].channel, last_seq_);
    }
  }
  // Only the reads' messages: the plain part stays where the client was.
  b->cursor = placed ? cursor_at(*placed) : head();
  b->start = b->cursor;
  finish(*b, refs, ends);
  return b;
}

}  // namespace comet
