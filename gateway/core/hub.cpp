#include "gateway/core/hub.hpp"

#include <algorithm>
#include <exception>
#include <iterator>
#include <limits>
#include <map>

#include "gateway/core/detail/channel.hpp"

namespace comet {
using detail::DurableWindow;

// The Hub's cost of one parked poll, on LP64: the Waiter's private part
// (hub_ 8 + links_ 56 + more_nodes_ 8 + since/slot 8 + count and state 8 =
// 88 bytes, inside the Waiter, no allocation) and, for each channel after
// the first, a 32-byte ChannelNode in one array. No timer, no std::function.
// A hook is two pointers: the lists keep no size and the nodes no list.
static_assert(sizeof(void*) != 8 || sizeof(detail::ListHook) == 16);
static_assert(sizeof(void*) != 8 || sizeof(detail::ChannelNode) == 32);
static_assert(sizeof(void*) != 8 || sizeof(detail::WaiterLinks) == 56);
namespace {
struct ProbeWaiter : Waiter {
  void on_release(const BatchPtr&) override {}
};
}  // namespace
static_assert(sizeof(void*) != 8 || sizeof(ProbeWaiter) == 8 /* vptr */ + 88);

namespace {

// Bounds the deadline arithmetic; the HTTP layer clamps far below this.
constexpr Clock::duration kMaxTimeout = std::chrono::hours(24 * 365);

Clock::time_point add_saturated(Clock::time_point t, Clock::duration d) {
  if (d > Clock::time_point::max() - t) return Clock::time_point::max();
  return t + d;
}

auto first_after(const std::deque<MessagePtr>& buf, std::uint64_t since) {
  return std::upper_bound(buf.begin(), buf.end(), since,
                          [](std::uint64_t s, const MessagePtr& m) { return s < m->seq; });
}

auto first_id_after(std::deque<MessagePtr>::const_iterator from,
                    std::deque<MessagePtr>::const_iterator to, StreamId p) {
  return std::upper_bound(from, to, p, [](StreamId v, const MessagePtr& m) { return v < m->id; });
}

}  // namespace

// ---- Waiter ----------------------------------------------------------------

bool Waiter::parked() const {
  return state_ == State::parked;
}

Waiter::~Waiter() {
  // Through the Hub, although the nodes would unlink themselves when
  // destroyed (auto_unlink): the Hub also counts the waiter out, notes the
  // channels it leaves idle and withdraws an on_release still pending.
  if (hub_ != nullptr) hub_->cancel(*this);
}

// ---- Hub: construction, accessors -------------------------------------------

Hub::Hub(HubOptions options, std::uint64_t epoch, const BatchEncoder& encoder)
    : options_(options),
      epoch_(epoch),
      encoder_(encoder),
      wheel_(options.tick),
      rng_(options.seed) {}

Hub::~Hub() {
  // Detach, don't answer: whoever destroys the Hub owns the waiters and
  // knows what to tell them (release_all() first for a clean shutdown).
  std::vector<detail::DeadlineNode*> nodes;
  wheel_.drain(nodes);
  for (detail::DeadlineNode* n : nodes) {
    Waiter& w = detail::waiter_of(*n);
    for (std::uint32_t i = 0; i < w.channel_count_; ++i) node(w, i).unlink();
    w.state_ = Waiter::State::idle;
    w.hub_ = nullptr;
  }
}

std::uint64_t Hub::epoch() const {
  return epoch_;
}
Cursor Hub::head() const {
  return Cursor{epoch_, last_seq_};
}
bool Hub::can_park() const {
  return parked_ < options_.max_waiters;
}
std::size_t Hub::parked() const {
  return parked_;
}
const HubCounters& Hub::counters() const {
  return counters_;
}

std::size_t Hub::channels() const {
  // Idle channels wait in candidates_ for expire() to forget them; they are
  // not "channels with waiters or buffered messages".
  std::size_t idle = 0;
  for (const Channel* c : candidates_) {
    if (c->idle()) ++idle;
  }
  return channels_.size() - idle;
}

void Hub::see(Clock::time_point now) {
  if (!last_now_ || now > *last_now_) last_now_ = now;
}

// ---- Channels and their buffers ---------------------------------------------

Hub::Channel& Hub::get_or_create(std::string_view name) {
  if (auto it = channels_.find(name); it != channels_.end()) return *it->second;
  auto c = std::make_unique<Channel>(std::string(name));
  // It may be a forgotten channel coming back: whatever it lost then is at
  // most forgotten_seq_, so inherit that (as an unknown channel would).
  c->dropped_seq = forgotten_seq_;
  Channel& ref = *c;
  channels_.emplace(std::string_view(ref.name), std::move(c));
  return ref;
}

void Hub::note_maybe_idle(Channel& c) {
  if (c.idle() && !c.candidate) {
    c.candidate = true;
    candidates_.push_back(&c);
  }
}

void Hub::evict_front(Channel& c) {
  const MessagePtr& m = c.buffer.front();
  c.dropped_seq = std::max(c.dropped_seq, m->seq);
  if (c.window && m->durable && m->seq > c.window->base_seq) {
    c.window->base = m->id;
    c.window->base_seq = m->seq;
  }
  c.buffer_bytes -= m->encoded.size();
  c.buffer.pop_front();
  ++counters_.messages_dropped;
}

void Hub::file_by_age(Channel& c) {
  if (c.age_key || c.buffer.empty()) return;
  c.age_key = c.buffer.front()->received;
  age_index_.emplace(*c.age_key, &c);
}

void Hub::evict_aged(Clock::time_point now) {
  const Clock::duration max_age = options_.buffer_max_age;
  while (!age_index_.empty()) {
    auto it = age_index_.begin();
    if (now - it->first < max_age) break;
    Channel& c = *it->second;
    age_index_.erase(it);
    c.age_key.reset();
    while (!c.buffer.empty() && now - c.buffer.front()->received >= max_age) evict_front(c);
    // Refiled under its true oldest receipt, which is younger than max_age:
    // the loop moves on.
    file_by_age(c);
    note_maybe_idle(c);
  }
}

void Hub::forget_idle_channels() {
  for (Channel* c : candidates_) {
    c->candidate = false;
    // A dirty channel is on dirty_: flush() makes it a candidate again.
    if (!c->idle() || c->dirty) continue;
    forgotten_seq_ = std::max(forgotten_seq_, c->dropped_seq);
    if (c->age_key) age_index_.erase({*c->age_key, c});
    channels_.erase(channels_.find(std::string_view(c->name)));
  }
  candidates_.clear();
}

// ---- Publish and the release passes -----------------------------------------

MessagePtr Hub::publish(std::string_view channel, std::string_view payload, Clock::time_point now,
                        const StreamId* id) {
  see(now);
  ++counters_.messages_received;
  Channel& c = get_or_create(channel);
  if (id == nullptr) {
    // A plain message on a durable channel: positions cannot account for
    // it, so the channel is plain again (README: publish a channel either
    // always durably or never).
    if (c.window) {
      c.window.reset();
      ++counters_.durable_windows_dropped;
    }
    return append(c, payload, now, nullptr);
  }
  // Heard live, so the subscription is up: the window starts synced, just
  // before this message (nothing lies between pred(id) and id).
  if (!c.window) start_window(c, id->pred(), true);
  DurableWindow& w = *c.window;
  if (!w.synced) {
    if (w.pending.size() >= options_.buffer_max_messages) {
      // Bounded: drop what waits (it is in the stream) and let only a read
      // sent after this point sync the window.
      w.pending.clear();
      w.gen = ++window_gens_;
    }
    w.pending.emplace_back(*id, std::string(payload));
    return nullptr;
  }
  if (*id <= w.top) {
    ++counters_.durable_duplicates;  // a stream read brought it first
    return nullptr;
  }
  return append(c, payload, now, id);
}

MessagePtr Hub::append(Channel& c, std::string_view payload, Clock::time_point now,
                       const StreamId* id) {
  auto m = std::make_shared<Message>();
  m->seq = ++last_seq_;
  m->received = now;
  m->channel.assign(c.name);
  if (id != nullptr) {
    m->durable = true;
    m->id = *id;
    m->encoded = encoder_.message(c.name, id->text(), payload);
    c.window->top = *id;
  } else {
    m->encoded = encoder_.message(c.name, format_cursor(Cursor{epoch_, m->seq}), payload);
  }
  c.buffer_bytes += m->encoded.size();
  c.buffer.push_back(std::move(m));
  mark_dirty(c);
  trim(c);
  file_by_age(c);
  return c.buffer.back();
}

void Hub::mark_dirty(Channel& c) {
  // Only the waiters parked now need a flush: one that parks before it
  // parks at head, after the change.
  if (!c.dirty && !c.waiters.empty()) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
}

void Hub::trim(Channel& c) {
  // Until the flush, parked waiters of a durable channel still need its new
  // messages: evicting them would turn their answer into a gap although
  // the stream still has everything. flush() trims afterwards.
  if (c.window && c.dirty) return;
  // The newest message always stays, even alone over the byte bound: it has
  // not been delivered to anyone yet, and dropping it would only turn every
  // waiter's answer into a gap.
  while (c.buffer.size() > 1 && (c.buffer.size() > options_.buffer_max_messages ||
                                 c.buffer_bytes > options_.buffer_max_bytes)) {
    evict_front(c);
  }
}

std::size_t Hub::flush(Clock::time_point now) {
  see(now);
  std::vector<Channel*> dirty;
  dirty.swap(dirty_);
  std::vector<Waiter*> out;
  for (Channel* c : dirty) {
    c->dirty = false;
    const std::uint64_t newest = c->buffer.empty() ? 0 : c->buffer.back()->seq;
    detail::WaitQueue& q = c->waiters;
    for (auto it = q.begin(); it != q.end();) {
      // Stepped past before the waiter is unlinked; the next node stays
      // linked, as a waiter has one node per channel.
      Waiter& w = *(it++)->waiter;
      // A waiter that parked after the publish (cursor at or past it) has
      // nothing new and stays parked.
      const std::uint64_t s = w.since_seq_;
      if (newest > s || c->dropped_seq > s || gap_seq_ > s) {
        unlink(w);
        out.push_back(&w);
      }
    }
    note_maybe_idle(*c);
  }
  release(out, false);
  for (Channel* c : dirty) {
    if (!c->dirty) trim(*c);  // durable channels held their burst until now
  }
  return out.size();
}

void Hub::gap_all(Clock::time_point now) {
  see(now);
  // A seq of its own: every cursor issued so far is below it, every cursor
  // issued from now on is not.
  gap_seq_ = ++last_seq_;
  std::vector<detail::DeadlineNode*> nodes;
  wheel_.drain(nodes);
  std::vector<Waiter*> out;
  collect_wheel(nodes, out);
  release(out, false);
}

void Hub::expire(Clock::time_point now) {
  see(now);
  std::vector<detail::DeadlineNode*> nodes;
  wheel_.expire(now, nodes);
  std::vector<Waiter*> out;
  collect_wheel(nodes, out);
  evict_aged(now);
  release(out, true);
}

void Hub::release_all() {
  std::vector<detail::DeadlineNode*> nodes;
  wheel_.drain(nodes);
  std::vector<Waiter*> out;
  collect_wheel(nodes, out);
  release(out, false);
}

std::optional<Clock::time_point> Hub::next_wakeup() const {
  std::optional<Clock::time_point> next = wheel_.next_due();
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!age_index_.empty()) {
    consider(add_saturated(age_index_.begin()->first, options_.buffer_max_age));
  }
  // Channels left idle (a cancelled poll, say) are forgotten by the next
  // expire(): ask for it now, so that an idle gateway then sleeps clean.
  if (!candidates_.empty() && last_now_) consider(*last_now_);
  return next;
}

void Hub::collect_wheel(std::vector<detail::DeadlineNode*>& nodes, std::vector<Waiter*>& out) {
  out.reserve(out.size() + nodes.size());
  for (detail::DeadlineNode* n : nodes) {
    Waiter& w = detail::waiter_of(*n);
    unlink(w);
    out.push_back(&w);
  }
}

void Hub::release(std::vector<Waiter*>& waiters, bool forget_channels) {
  // 1. (done by the caller) every waiter is unlinked from every queue, so
  //    no queue is being iterated when callbacks run.
  // 2. Batches. Waiters whose answers are equal share one Batch, so one
  //    body: the answer depends only on the channel set and on the first
  //    seq after the waiter's cursor at which something changes.
  struct Pending {
    Waiter* waiter;
    BatchPtr batch;
  };
  std::vector<Pending> pending;
  pending.reserve(waiters.size());
  std::map<std::pair<Channel*, std::uint64_t>, BatchPtr> single;
  std::map<std::pair<std::vector<Channel*>, std::uint64_t>, BatchPtr> multi;
  BatchPtr empty;
  std::vector<ChannelRef> refs;
  for (Waiter* w : waiters) {
    refs.clear();
    const std::uint64_t since = w->since_seq_;
    for (std::uint32_t i = 0; i < w->channel_count_; ++i) {
      Channel* c = node(*w, i).channel;
      refs.push_back(ChannelRef{c->name, c, since, seq_gap(c, since), position_at(c, since)});
    }
    const std::uint64_t change = next_change(refs, since);
    BatchPtr* slot;
    // Nothing changed: one empty answer for all, unless a channel is
    // durable; then it carries that channel's position, so it is keyed by
    // the channels like any other.
    bool positioned = false;
    for (const ChannelRef& r : refs) positioned = positioned || r.channel->window.has_value();
    if (change == 0 && !positioned) {
      slot = &empty;
    } else if (refs.size() == 1) {
      slot = &single[{refs[0].channel, change}];
    } else {
      std::vector<Channel*> key;  // in name order (as parked): one per set
      for (const ChannelRef& r : refs) key.push_back(r.channel);
      slot = &multi[{std::move(key), change}];
    }
    if (!*slot) *slot = make_batch(refs, false);
    pending.push_back(Pending{w, *slot});
  }
  if (forget_channels) forget_idle_channels();  // after the last use of refs

  // 3. Callbacks. Any of them may destroy or cancel a waiter still pending
  // here (closing a multiplexed connection, say): its slot is then cleared.
  // A callback that throws does not end the pass: the waiters after it
  // still point into `pending`, so each is released before the first
  // failure goes on to the caller.
  for (Pending& p : pending) {
    p.waiter->state_ = Waiter::State::releasing;
    p.waiter->release_slot_ = &p.waiter;
  }
  std::exception_ptr failure;
  for (Pending& p : pending) {
    Waiter* w = p.waiter;
    if (w == nullptr) continue;
    w->state_ = Waiter::State::idle;
    w->hub_ = nullptr;
    count(*p.batch);
    try {
      w->on_release(p.batch);  // may destroy w or re-park it: not touched after
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

// ---- Poll ------------------------------------------------------------------

detail::ChannelNode& Hub::node(Waiter& w, std::uint32_t i) {
  return i == 0 ? w.links_.first : w.more_nodes_[i - 1];
}

void Hub::count(const Batch& b) {
  counters_.messages_delivered += b.messages.size();
  counters_.gaps += b.gaps.size();
}

std::uint64_t Hub::next_change(std::span<const ChannelRef> channels, std::uint64_t since) const {
  std::uint64_t best = 0;
  auto consider = [&](std::uint64_t v) {
    if (v > since && (best == 0 || v < best)) best = v;
  };
  consider(gap_seq_);
  for (const ChannelRef& r : channels) {
    if (r.channel == nullptr) {
      consider(forgotten_seq_);
      continue;
    }
    consider(r.channel->dropped_seq);
    if (r.channel->window) consider(r.channel->window->start_seq);  // seq_gap() turns there
    auto it = first_after(r.channel->buffer, since);
    if (it != r.channel->buffer.end()) consider((*it)->seq);
  }
  return best;
}

bool Hub::has_news(std::span<const ChannelRef> channels) {
  for (const ChannelRef& r : channels) {
    if (r.gap) return true;
    if (r.channel != nullptr && first_after(r.channel->buffer, r.since) != r.channel->buffer.end())
      return true;
  }
  return false;
}

BatchPtr Hub::make_batch(std::span<const ChannelRef> channels, bool foreign) const {
  auto b = std::make_shared<Batch>();
  for (const ChannelRef& r : channels) {
    if (r.gap) b->gaps.emplace_back(r.name);
  }
  // Merge the channels' buffered messages after their `since` by seq (each
  // buffer is in seq order), up to the batch caps.
  struct Run {
    const std::deque<MessagePtr>* buffer;
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
    for (std::size_t i = runs[0].next; i < buf.size() && take(buf[i], runs[0].ref); ++i) {
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
  b->cursor = head();
  if (truncated && !foreign) b->cursor.seq = b->messages.back()->seq;
  b->start = Cursor{epoch_, std::min(start_seq, last_seq_), {}};
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

bool Hub::seq_gap(const Channel* c, std::uint64_t since) const {
  if (c == nullptr) return since < forgotten_seq_ || since < gap_seq_;
  if (since < c->dropped_seq) return true;
  // A resubscription loses nothing on a durable channel that this cursor
  // has followed since its window began: the window is read up again.
  if (since < gap_seq_) return !(c->window && since >= c->window->start_seq);
  return false;
}

std::optional<StreamId> Hub::position_at(const Channel* c, std::uint64_t s) const {
  if (c == nullptr || !c->window) return std::nullopt;
  const DurableWindow& w = *c->window;
  auto it = first_after(c->buffer, s);
  if (it != c->buffer.begin() && (*std::prev(it))->seq > w.base_seq) return (*std::prev(it))->id;
  if (s >= w.base_seq) return w.base;
  return std::nullopt;
}

std::uint64_t Hub::seq_after(const Channel& c, StreamId p) const {
  const auto& buf = c.buffer;
  auto it = first_id_after(first_after(buf, c.window->base_seq), buf.end(), p);
  return it == buf.end() ? last_seq_ : (*it)->seq - 1;
}

namespace {

// The position of each name in `since`, if any and if no other name of the
// poll has the same hash.
std::vector<std::optional<StreamId>> positions_of(std::span<const std::string_view> names,
                                                  const Since& since) {
  std::vector<std::optional<StreamId>> out(names.size());
  if (since.kind != Since::Kind::cursor || since.cursor.positions.empty()) return out;
  std::vector<std::uint64_t> hashes;
  for (std::string_view n : names) hashes.push_back(channel_hash(n));
  std::vector<std::uint64_t> sorted = hashes;
  std::sort(sorted.begin(), sorted.end());
  const auto& ps = since.cursor.positions;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), hashes[i]);
    if (hi - lo != 1) continue;
    auto it = std::lower_bound(ps.begin(), ps.end(), hashes[i],
                               [](const Position& p, std::uint64_t h) { return p.hash < h; });
    if (it != ps.end() && it->hash == hashes[i]) out[i] = it->id;
  }
  return out;
}

std::vector<std::string_view> sorted_names(std::span<const std::string> channels) {
  std::vector<std::string_view> names(channels.begin(), channels.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

std::vector<ReadNeed> Hub::reads_needed(std::span<const std::string> channels,
                                        const Since& since) const {
  std::vector<ReadNeed> out;
  if (since.kind != Since::Kind::cursor || since.cursor.positions.empty()) return out;
  const auto names = sorted_names(channels);
  const auto ps = positions_of(names, since);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!ps[i]) continue;
    auto it = channels_.find(names[i]);
    const Channel* c = it == channels_.end() ? nullptr : it->second.get();
    if (c == nullptr || !c->window || *ps[i] < c->window->base) {
      out.push_back(ReadNeed{std::string(names[i]), *ps[i]});
    } else if (*ps[i] > c->window->top) {
      // Another gateway heard more already: read up to it here too, or its
      // messages would reach this client a second time when heard live.
      out.push_back(ReadNeed{std::string(names[i]), c->window->top});
    }
  }
  return out;
}

std::vector<ReadNeed> Hub::resyncs_needed() const {
  std::vector<ReadNeed> out;
  for (const auto& [name, c] : channels_) {
    if (c->window && !c->window->synced) out.push_back(ReadNeed{c->name, c->window->top});
  }
  return out;
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
  c.window = std::move(w);
}

void Hub::drain_pending(Channel& c, Clock::time_point now) {
  auto pending = std::move(c.window->pending);
  c.window->pending.clear();
  for (const auto& [id, payload] : pending) {
    if (id > c.window->top) {
      append(c, payload, now, &id);
    } else {
      ++counters_.durable_duplicates;
    }
  }
}

void Hub::apply_read(std::string_view channel, StreamId from, const StreamRead& read,
                     const ReadToken& token, Clock::time_point now) {
  see(now);
  Channel& c = get_or_create(channel);
  // Sent while subscribed, no loss since, and up to the stream's end: every
  // later message arrives live.
  const bool live_after = token.link_up && token.link_gen == link_gen_ && read.complete;
  auto append_after_top = [&] {
    for (const StreamEntry& e : read.entries) {
      if (e.id > c.window->top) {
        ++counters_.messages_received;
        append(c, e.payload, now, &e.id);
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
  note_maybe_idle(c);
}

BatchPtr Hub::direct_batch(std::span<ChannelRef> refs, const std::vector<std::size_t>& direct,
                           const std::vector<StreamId>& from, const PollReads& reads, bool ours,
                           const Since& since) const {
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
    const StreamRead& read = reads.find(refs[i].name)->second;
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
  b->cursor = head();
  if (ours) b->cursor.seq = since.cursor.seq;
  b->start = Cursor{epoch_, b->cursor.seq, {}};
  finish(*b, refs, ends);
  return b;
}

PollResult Hub::poll(Waiter& w, std::span<const std::string> channels, const Since& since,
                     Clock::duration timeout, Clock::time_point now, const PollReads* reads) {
  see(now);
  if (channels.empty()) return {PollStatus::no_channel, nullptr};
  const bool ours = since.kind == Since::Kind::cursor && since.cursor.epoch == epoch_;
  if (ours && since.cursor.seq > last_seq_) return {PollStatus::bad_cursor, nullptr};
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
    if (p && reads != nullptr) {
      // Only a read from this very position answers it (another one, say
      // a catch-up from the window's top, would skip or repeat).
      if (auto f = reads->find(names[i]); f != reads->end() && f->second.from == *p) {
        read = &f->second;
      }
    }
    if (p && win != nullptr && read != nullptr && *p < win->base &&
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
      r.since = since.cursor.seq;
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
    if (!can_park()) return {PollStatus::full, nullptr};
    park(w, names, last_seq_, timeout, now);
    return {PollStatus::parked, nullptr};
  }
  BatchPtr b = direct.empty() ? make_batch(refs, foreign)
                              : direct_batch(refs, direct, direct_from, *reads, ours, since);
  if (!b->messages.empty() || !b->gaps.empty() || timeout <= Clock::duration::zero()) {
    count(*b);
    return {PollStatus::answered, std::move(b)};
  }
  if (!can_park()) return {PollStatus::full, nullptr};
  // Nothing after each channel's start is buffered or lost, so parking
  // from head is the same answer later, and lets all waiters of a channel
  // share one key (and one batch) when it is released.
  park(w, names, last_seq_, timeout, now);
  return {PollStatus::parked, nullptr};
}

void Hub::park(Waiter& w, std::span<const std::string_view> names, std::uint64_t since,
               Clock::duration timeout, Clock::time_point now) {
  const auto n = static_cast<std::uint32_t>(names.size());
  if (n > 1) {
    if (w.channel_count_ != n || !w.more_nodes_) {
      w.more_nodes_ = std::make_unique<detail::ChannelNode[]>(n - 1);
    }
  } else {
    w.more_nodes_.reset();
  }
  w.channel_count_ = n;
  for (std::uint32_t i = 0; i < n; ++i) {
    detail::ChannelNode& nd = node(w, i);
    nd.waiter = &w;
    nd.channel = &get_or_create(names[i]);
    nd.channel->waiters.push_back(nd);
  }
  w.since_seq_ = since;

  Clock::duration t = std::min(timeout, kMaxTimeout);
  const double jitter = std::clamp(options_.timeout_jitter, 0.0, 1.0);
  if (jitter > 0) {
    // Drawn below the timeout, never above: the timeout is what the client
    // and the proxies in between were promised.
    const double u = std::uniform_real_distribution<double>(0.0, jitter)(rng_);
    t = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, Clock::period>(static_cast<double>(t.count()) * (1.0 - u)));
  }
  wheel_.insert(w.links_, now + t, now);
  w.hub_ = this;
  w.state_ = Waiter::State::parked;
  ++parked_;
}

void Hub::unlink(Waiter& w) {
  for (std::uint32_t i = 0; i < w.channel_count_; ++i) {
    detail::ChannelNode& nd = node(w, i);
    nd.unlink();
    note_maybe_idle(*nd.channel);
  }
  wheel_.erase(w.links_);
  --parked_;
}

void Hub::cancel(Waiter& w) {
  if (w.hub_ != this) return;
  if (w.state_ == Waiter::State::parked) {
    unlink(w);
  } else if (w.state_ == Waiter::State::releasing) {
    *w.release_slot_ = nullptr;
  }
  w.state_ = Waiter::State::idle;
  w.hub_ = nullptr;
}

}  // namespace comet
