// The Hub's polls: placing a poll's cursor on its channels, answering it
// at once or parking it (wait queues, deadline wheel), and the batches that
// poll and release share. The Hub's other parts are hub.cpp (channels,
// receiving, release passes) and hub_durable.cpp (durable windows).
#include <algorithm>
#include <map>

#include "gateway/core/detail/channel.hpp"
#include "gateway/core/detail/hub_inline.hpp"
#include "gateway/core/detail/poll_lookup.hpp"
#include "gateway/core/hub.hpp"

namespace comet {
using detail::DurableWindow;
using detail::first_after;
using detail::positions_of;
using detail::sorted_names;

// ---- Poll ------------------------------------------------------------------

BatchPtr Hub::make_batch(std::span<const ChannelRef> channels, bool foreign) const {
  auto b = std::make_shared<Batch>();
  for (const ChannelRef& r : channels) {
    if (r.gap) b->gaps.emplace_back(r.name);
  }
  // Merge the channels' buffered messages after their `since` by seq (each
  // buffer is in seq order), up to the batch caps.
  struct Run {
    const detail::MessageBuffer* buffer;
    std::size_t next;
    std::size_t ref;
    std::uint64_t seq() const { return (*buffer)[next]->seq; }
  };
  std::vector<Run> runs;
  std::uint64_t start_seq = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::optional<StreamId>> ends;
  ends.reserve(channels.size());
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const ChannelRef& r = channels[i];
    ends.push_back(r.start);
    start_seq = std::min(start_seq, r.since);
    if (r.channel == nullptr) continue;
    const auto& buf = r.channel->buffer;
    auto it = first_after(buf, r.since);
    if (it != buf.end()) runs.push_back(Run{&buf, static_cast<std::size_t>(it - buf.begin()), i});
  }
  const std::size_t max_messages = std::max<std::size_t>(options_.batch_max_messages, 1);
  std::size_t bytes = 0;
  bool truncated = false;
  auto take = [&](const MessagePtr& m, std::size_t ref) {
    // The byte cap is soft: a message bigger than the cap goes alone.
    if (!b->messages.empty() && (b->messages.size() >= max_messages ||
                                 bytes + m->encoded.size() > options_.batch_max_bytes)) {
      truncated = true;
      return false;
    }
    bytes += m->encoded.size();
    b->messages.push_back(m);
    if (m->durable) ends[ref] = m->id;
    return true;
  };
  if (runs.size() == 1) {
    const auto& buf = *runs[0].buffer;
    // One channel (the common poll): its count is known, so the vector of
    // references grows once rather than by doubling (a catching-up poll
    // carries hundreds).
    b->messages.reserve(std::min(buf.size() - runs[0].next, max_messages));
    // The messages lie wherever they were allocated, among every other
    // channel's: each one's cache line is asked for a few steps ahead, so
    // that the references taken here do not wait for memory one by one.
    constexpr std::size_t kAhead = 8;
    for (std::size_t i = runs[0].next; i < buf.size(); ++i) {
      if (i + kAhead < buf.size()) __builtin_prefetch(buf[i + kAhead].get());
      if (!take(buf[i], runs[0].ref)) break;
    }
  } else if (!runs.empty()) {
    auto later = [](const Run& a, const Run& c) { return a.seq() > c.seq(); };  // min-heap
    std::make_heap(runs.begin(), runs.end(), later);
    while (!runs.empty()) {
      std::pop_heap(runs.begin(), runs.end(), later);
      Run& r = runs.back();
      if (!take((*r.buffer)[r.next], r.ref)) break;
      if (++r.next < r.buffer->size()) {
        std::push_heap(runs.begin(), runs.end(), later);
      } else {
        runs.pop_back();
      }
    }
  }
  // Cut short, the cursor stops at the last message carried, so the next
  // poll takes the rest; else everything up to head was carried or gapped.
  // Another gateway's cursor had no seq here: every channel it could not
  // place got a gap as of head, and durable ones carry their progress in
  // their positions.
  b->cursor = truncated && !foreign ? cursor_at(b->messages.back()->seq) : head();
  b->start = cursor_at(std::min(start_seq, last_seq_));
  finish(*b, channels, ends);
  return b;
}

void Hub::finish(Batch& b, std::span<const ChannelRef> refs,
                 const std::vector<std::optional<StreamId>>& ends) const {
  // Two channels of one poll with the same hash: neither gets a position
  // (never a position that could be read as the other's).
  std::vector<std::uint64_t> hashes;
  hashes.reserve(refs.size());
  for (const ChannelRef& r : refs) hashes.push_back(channel_hash(r.name));
  std::vector<std::uint64_t> sorted = hashes;
  std::sort(sorted.begin(), sorted.end());
  auto unique = [&](std::uint64_t h) {
    auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), h);
    return hi - lo == 1;
  };
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (!unique(hashes[i])) continue;
    if (ends[i]) b.cursor.positions.push_back(Position{hashes[i], *ends[i]});
    if (refs[i].start) b.start.positions.push_back(Position{hashes[i], *refs[i].start});
  }
  auto by_hash = [](const Position& x, const Position& y) { return x.hash < y.hash; };
  std::sort(b.cursor.positions.begin(), b.cursor.positions.end(), by_hash);
  std::sort(b.start.positions.begin(), b.start.positions.end(), by_hash);
  std::sort(b.gaps.begin(), b.gaps.end());
  b.body = encoder_.body(b);
}

BatchPtr Hub::unchanged(const Cursor& cursor) const {
  auto b = std::make_shared<Batch>();
  b->cursor = cursor;
  b->start = cursor;
  b->body = encoder_.body(*b);
  return b;
}

std::optional<PollStatus> Hub::refuse_parking(std::span<const ChannelRef> refs) const {
  if (!can_park()) return PollStatus::full;
  std::size_t fresh = 0;
  for (const ChannelRef& r : refs) fresh += r.channel == nullptr;
  if (fresh > 0 && channels_.size() + fresh > options_.max_channels) {
    return PollStatus::channels_full;
  }
  return std::nullopt;
}

PollResult Hub::poll(Waiter& w, std::span<const std::string> channels, const Since& since,
                     Clock::duration timeout, Clock::time_point now, const PollReads* reads) {
  see(now);
  if (channels.empty()) return {PollStatus::no_channel, nullptr};
  const std::optional<std::uint64_t> placed = placed_seq(since);
  if (placed && *placed > last_seq_) return {PollStatus::bad_cursor, nullptr};
  const bool ours = placed.has_value();
  if (w.hub_ != nullptr) w.hub_->cancel(w);

  // Sorted, so that a waiter's channels have one order (the batch-sharing
  // key) and gaps are listed in name order.
  const std::vector<std::string_view> names = sorted_names(channels);
  const auto positions = positions_of(names, since);
  const bool foreign = since.kind == Since::Kind::cursor && !ours;

  std::vector<ChannelRef> refs;
  refs.reserve(names.size());
  std::vector<std::size_t> direct;
  std::vector<StreamId> direct_from;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto it = channels_.find(names[i]);
    Channel* c = it == channels_.end() ? nullptr : it->second.get();
    ChannelRef r{names[i], c, 0, false, std::nullopt};
    const std::optional<StreamId>& p = positions[i];
    const DurableWindow* win = c != nullptr && c->window ? &*c->window : nullptr;
    const StreamRead* read = nullptr;
    const bool refused = p && reads != nullptr && reads->gaps.contains(names[i]);
    if (p && reads != nullptr) {
      // Only a read from this very position answers it (another one, say
      // a catch-up from the window's top, would skip or repeat).
      if (auto f = reads->reads.find(names[i]); f != reads->reads.end() && f->second.from == *p) {
        read = &f->second;
      }
    }
    if (refused) {
      // Not one a gateway issued, or past the read budget (reads_needed):
      // a gap, and from now on.
      r.gap = true;
      r.since = last_seq_;
      r.start = position_at(c, last_seq_);
    } else if (p && win != nullptr && read != nullptr && *p < win->base &&
               read->status == StreamRead::Status::ok && read->entries.empty()) {
      // The stream has nothing between the position and the window: the
      // position is as good as the window's base.
      r.since = win->base_seq;
      r.start = p;
    } else if (p && win != nullptr && *p >= win->base) {
      // A position past what is held even after reading (not one that a
      // gateway gave out): nothing to place, nothing to repeat.
      r.since = *p > win->top ? last_seq_ : seq_after(*c, *p);
      r.start = p;
    } else if (p && read != nullptr) {
      direct.push_back(i);
      direct_from.push_back(*p);
      r.since = last_seq_;
      r.start = p;
    } else if (p || foreign) {
      // Not placeable (the read failed, or a plain channel on another
      // gateway's cursor): a gap, and from now on.
      r.gap = true;
      r.since = last_seq_;
      r.start = position_at(c, last_seq_);
    } else if (since.kind == Since::Kind::cursor) {
      r.since = *placed;
      r.gap = seq_gap(c, r.since);
      r.start = position_at(c, r.since);
    } else {
      r.since = since.kind == Since::Kind::earliest ? 0 : last_seq_;
      r.start = position_at(c, r.since);
    }
    refs.push_back(r);
  }

  if (direct.empty() && timeout > Clock::duration::zero() && !has_news(refs)) {
    // The common long-poll: nothing yet. Parked without building (and
    // encoding) the empty batch it would otherwise be compared against.
    if (auto refused = refuse_parking(refs)) return {*refused, nullptr};
    park(w, names, last_seq_, timeout, now);
    return {PollStatus::parked, nullptr};
  }
  BatchPtr b = direct.empty() ? make_batch(refs, foreign)
                              : direct_batch(refs, direct, direct_from, *reads, placed);
  if (!b->messages.empty() || !b->gaps.empty() || timeout <= Clock::duration::zero()) {
    count(*b);
    return {PollStatus::answered, std::move(b)};
  }
  if (auto refused = refuse_parking(refs)) return {*refused, nullptr};
  // Nothing after each channel's start is buffered or lost, so parking
  // from head is the same answer later, and lets all waiters of a channel
  // share one key (and one batch) when it is released.
  park(w, names, last_seq_, timeout, now);
  return {PollStatus::parked, nullptr};
}

}  // namespace comet
