#include "gateway/core/hub.hpp"

#include <algorithm>
#include <exception>
#include <iterator>
#include <limits>
#include <map>

#include "gateway/core/detail/channel.hpp"
#include "gateway/core/detail/hub_inline.hpp"
#include "gateway/core/detail/poll_lookup.hpp"

namespace comet {
using detail::DurableWindow;
using detail::first_after;

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

void Hub::for_each_occupied(
    const std::function<void(std::string_view channel, std::size_t clients)>& f) const {
  for (const auto& [name, c] : channels_) {
    if (c->parked > 0) f(name, c->parked);
  }
}

std::uint64_t Hub::epoch() const {
  return epoch_;
}
Cursor Hub::head() const {
  return cursor_at(last_seq_);
}
Cursor Hub::cursor_at(std::uint64_t seq) const {
  Cursor c{epoch_, seq};
  c.stream = marks_.position_at(seq);
  return c;
}

void Hub::mark(std::uint64_t id) {
  marks_.mark(id, last_seq_);
}

CursorSource Hub::source_of(const Cursor& c) const {
  if (c.stream) {
    return marks_.seq_of(*c.stream).status == StreamMarks::Placed::at ? CursorSource::stream
                                                                      : CursorSource::unplaced;
  }
  return c.epoch == epoch_ ? CursorSource::own : CursorSource::unplaced;
}

std::optional<std::uint64_t> Hub::placed_seq(const Since& since) const {
  if (since.kind != Since::Kind::cursor) return std::nullopt;
  const Cursor& c = since.cursor;
  if (c.stream) {
    const auto p = marks_.seq_of(*c.stream);
    if (p.status != StreamMarks::Placed::at) return std::nullopt;
    return p.seq;
  }
  if (c.epoch == epoch_) return c.seq;
  return std::nullopt;
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
  buffered_bytes_ -= m->encoded.size();
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

// ---- Receiving and the release passes ---------------------------------------

MessagePtr Hub::receive(std::string_view channel, std::string_view payload, Clock::time_point now,
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
    return append(c, payload, now, nullptr, true);
  }
  // Heard live, so the subscription is up: the window starts synced, just
  // before this message (nothing lies between pred(id) and id).
  if (!c.window) start_window(c, id->pred(), true);
  DurableWindow& w = *c.window;
  if (!w.synced) {
    if (w.pending.size() >= options_.buffer_max_messages ||
        w.pending_bytes + payload.size() > options_.buffer_max_bytes) {
      // Bounded: drop what waits (it is in the stream) and let only a read
      // sent after this point sync the window.
      w.pending.clear();
      w.pending_bytes = 0;
      w.gen = ++window_gens_;
    }
    w.pending.emplace_back(*id, std::string(payload));
    w.pending_bytes += payload.size();
    // Not buffered yet, but a message of the stream all the same: it gets
    // a seq of its own, so the stream's order stays every gateway's.
    marks_.message(++last_seq_);
    return nullptr;
  }
  if (*id <= w.top) {
    ++counters_.durable_duplicates;  // a stream read brought it first
    marks_.message(++last_seq_);
    return nullptr;
  }
  return append(c, payload, now, id, true);
}

MessagePtr Hub::receive_presence(std::string_view channel, const PresenceEvent& event,
                                 Clock::time_point now) {
  see(now);
  ++counters_.messages_received;
  Channel& c = get_or_create(channel);
  if (c.window) {
    // Like a plain message on a durable channel: positions cannot hold it.
    c.window.reset();
    ++counters_.durable_windows_dropped;
  }
  return append(c, {}, now, nullptr, true, &event);
}

MessagePtr Hub::append(Channel& c, std::string_view payload, Clock::time_point now,
                       const StreamId* id, bool live, const PresenceEvent* presence) {
  auto m = std::make_shared<Message>();
  m->seq = ++last_seq_;
  // Counted before its cursor is made: the cursor after it includes it.
  if (live) marks_.message(m->seq);
  m->stream = marks_.position_at(m->seq);
  m->received = now;
  m->channel.assign(c.name);
  if (id != nullptr) {
    m->durable = true;
    m->id = *id;
    m->encoded = encoder_.message(c.name, id->text(), payload);
    c.window->top = *id;
  } else if (presence != nullptr) {
    m->encoded = encoder_.presence(c.name, format_cursor(cursor_at(m->seq)), *presence);
  } else {
    m->encoded = encoder_.message(c.name, format_cursor(cursor_at(m->seq)), payload);
  }
  c.buffer_bytes += m->encoded.size();
  buffered_bytes_ += m->encoded.size();
  c.buffer.push_back(std::move(m));
  mark_dirty(c);
  trim(c);
  file_by_age(c);
  if (buffered_bytes_ > options_.max_buffered_bytes) enforce_buffered_bytes();
  return c.buffer.back();
}

void Hub::enforce_buffered_bytes() {
  // In the order of the age index (each channel under a lower bound of its
  // oldest message, which stays a lower bound as its front is dropped): the
  // channels holding the oldest messages give them up first.
  for (auto it = age_index_.begin();
       buffered_bytes_ > options_.max_buffered_bytes && it != age_index_.end(); ++it) {
    Channel& c = *it->second;
    while (c.buffer.size() > 1 && buffered_bytes_ > options_.max_buffered_bytes) evict_front(c);
  }
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
  // issued from now on is not. Stream positions heard before the loss are
  // forgotten (link_down did so too): none is placed across the hole.
  gap_seq_ = ++last_seq_;
  marks_.reset();
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
    for (const ChannelRef& r : refs) positioned = positioned || r.channel->window != nullptr;
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

// ---- Joining and leaving the queues ---------------------------------------

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
    ++nd.channel->parked;
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
    --nd.channel->parked;
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
