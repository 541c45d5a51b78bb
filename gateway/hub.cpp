#include "gateway/hub.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "gateway/detail/channel.hpp"
#include "gateway/json.hpp"

namespace comet {

// The Hub's cost of one parked poll, on LP64: the Waiter's private part
// (hub_ 8 + links_ 56 + more_nodes_ 8 + since/slot 8 + count and state 8 =
// 88 bytes, inside the Waiter, no allocation) and, for each channel after
// the first, a 32-byte ChannelNode in one array. No timer, no std::function.
static_assert(sizeof(void*) != 8 || sizeof(detail::ListNode) == 16);
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

std::shared_ptr<const std::string> encode_body(const Batch& b) {
  auto body = std::make_shared<std::string>();
  std::size_t size = 64;
  for (const auto& m : b.messages) size += m->json.size() + 1;
  for (const auto& g : b.gaps) size += g.size() + 3;
  body->reserve(size);
  body->append("{\"cursor\":\"");
  body->append(format_cursor(b.cursor));  // [0-9a-f.] only: no escaping
  body->append("\",\"messages\":[");
  for (std::size_t i = 0; i < b.messages.size(); ++i) {
    if (i > 0) body->push_back(',');
    body->append(b.messages[i]->json);
  }
  body->push_back(']');
  if (!b.gaps.empty()) {
    body->append(",\"gaps\":[");
    for (std::size_t i = 0; i < b.gaps.size(); ++i) {
      if (i > 0) body->push_back(',');
      append_json_string(*body, b.gaps[i]);
    }
    body->push_back(']');
  }
  body->push_back('}');
  return body;
}

}  // namespace

// ---- Waiter ----------------------------------------------------------------

bool Waiter::parked() const {
  return state_ == State::parked;
}

Waiter::~Waiter() {
  if (hub_ != nullptr) hub_->cancel(*this);
}

// ---- Hub: construction, accessors -------------------------------------------

Hub::Hub(HubOptions options, std::uint64_t epoch)
    : options_(options), epoch_(epoch), wheel_(options.tick), rng_(options.seed) {}

Hub::~Hub() {
  // Detach, don't answer: whoever destroys the Hub owns the waiters and
  // knows what to tell them (release_all() first for a clean shutdown).
  std::vector<detail::DeadlineNode*> nodes;
  wheel_.drain(nodes);
  for (detail::DeadlineNode* n : nodes) {
    Waiter& w = *detail::links_of(n)->first.waiter;
    for (std::uint32_t i = 0; i < w.channel_count_; ++i) node(w, i).link.unlink();
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
  c.buffer_bytes -= m->json.size();
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

MessagePtr Hub::publish(std::string_view channel, std::string_view payload, Clock::time_point now) {
  see(now);
  auto m = std::make_shared<Message>();
  m->seq = ++last_seq_;
  m->received = now;
  m->channel.assign(channel);
  // Encoded once here: every response that carries it copies these bytes.
  std::string& j = m->json;
  const bool text = is_valid_utf8(payload);
  // Sized up front: buffers are bounded by json bytes, and growth by
  // doubling would hold up to twice that (escapes still grow it).
  j.reserve(channel.size() + (text ? payload.size() : (payload.size() + 2) / 3 * 4) + 80);
  j.append("{\"channel\":");
  append_json_string(j, channel);
  j.append(",\"id\":\"");
  j.append(format_cursor(Cursor{epoch_, m->seq}));
  if (text) {
    j.append("\",\"data\":");
    append_json_string(j, payload);
  } else {
    j.append("\",\"data_base64\":\"");
    append_base64(j, payload);
    j.push_back('"');
  }
  j.push_back('}');
  ++counters_.messages_received;

  Channel& c = get_or_create(channel);
  c.buffer_bytes += j.size();
  c.buffer.push_back(std::move(m));
  // The newest message always stays, even alone over the byte bound: it has
  // not been delivered to anyone yet, and dropping it would only turn every
  // waiter's answer into a gap.
  while (c.buffer.size() > 1 && (c.buffer.size() > options_.buffer_max_messages ||
                                 c.buffer_bytes > options_.buffer_max_bytes)) {
    evict_front(c);
  }
  file_by_age(c);
  // Only the waiters parked now need this message: one that parks before
  // the flush parks at head, after it.
  if (!c.dirty && !c.waiters.empty()) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
  return c.buffer.back();
}

std::size_t Hub::flush(Clock::time_point now) {
  see(now);
  std::vector<Channel*> dirty;
  dirty.swap(dirty_);
  std::vector<Waiter*> out;
  for (Channel* c : dirty) {
    c->dirty = false;
    const std::uint64_t newest = c->buffer.empty() ? 0 : c->buffer.back()->seq;
    detail::ListHead& q = c->waiters;
    for (detail::ListNode* l = q.begin(); l != q.end();) {
      detail::ListNode* next = l->next;  // stays linked: only l's waiter is unlinked
      Waiter& w = *detail::channel_node_of(l)->waiter;
      // A waiter that parked after the publish (cursor at or past it) has
      // nothing new and stays parked.
      const std::uint64_t s = w.since_seq_;
      if (newest > s || c->dropped_seq > s || gap_seq_ > s) {
        unlink(w);
        out.push_back(&w);
      }
      l = next;
    }
    note_maybe_idle(*c);
  }
  release(out, false);
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
    Waiter& w = *detail::links_of(n)->first.waiter;
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
    for (std::uint32_t i = 0; i < w->channel_count_; ++i) {
      Channel* c = node(*w, i).channel;
      refs.push_back(ChannelRef{c->name, c});
    }
    const std::uint64_t since = w->since_seq_;
    const std::uint64_t change = next_change(refs, since);
    BatchPtr* slot;
    if (change == 0) {
      slot = &empty;
    } else if (refs.size() == 1) {
      slot = &single[{refs[0].channel, change}];
    } else {
      std::vector<Channel*> key;  // in name order (as parked): one per set
      for (const ChannelRef& r : refs) key.push_back(r.channel);
      slot = &multi[{std::move(key), change}];
    }
    if (!*slot) *slot = make_batch(refs, since, true);
    pending.push_back(Pending{w, *slot});
  }
  if (forget_channels) forget_idle_channels();  // after the last use of refs

  // 3. Callbacks. Any of them may destroy or cancel a waiter still pending
  // here (closing a multiplexed connection, say): its slot is then cleared.
  for (Pending& p : pending) {
    p.waiter->state_ = Waiter::State::releasing;
    p.waiter->release_slot_ = &p.waiter;
  }
  for (Pending& p : pending) {
    Waiter* w = p.waiter;
    if (w == nullptr) continue;
    w->state_ = Waiter::State::idle;
    w->hub_ = nullptr;
    count(*p.batch);
    w->on_release(p.batch);  // may destroy w or re-park it: not touched after
  }
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
    auto it = first_after(r.channel->buffer, since);
    if (it != r.channel->buffer.end()) consider((*it)->seq);
  }
  return best;
}

BatchPtr Hub::make_batch(std::span<const ChannelRef> channels, std::uint64_t since,
                         bool report_gaps) const {
  auto b = std::make_shared<Batch>();
  if (report_gaps) {
    for (const ChannelRef& r : channels) {
      const std::uint64_t dropped = r.channel ? r.channel->dropped_seq : forgotten_seq_;
      if (since < dropped || since < gap_seq_) b->gaps.emplace_back(r.name);
    }
  }
  // Merge the channels' buffered messages after `since` by seq (each buffer
  // is in seq order), up to the batch caps.
  struct Run {
    const std::deque<MessagePtr>* buffer;
    std::size_t next;
    std::uint64_t seq() const { return (*buffer)[next]->seq; }
  };
  std::vector<Run> runs;
  for (const ChannelRef& r : channels) {
    if (r.channel == nullptr) continue;
    const auto& buf = r.channel->buffer;
    auto it = first_after(buf, since);
    if (it != buf.end()) runs.push_back(Run{&buf, static_cast<std::size_t>(it - buf.begin())});
  }
  const std::size_t max_messages = std::max<std::size_t>(options_.batch_max_messages, 1);
  std::size_t bytes = 0;
  bool truncated = false;
  auto take = [&](const MessagePtr& m) {
    // The byte cap is soft: a message bigger than the cap goes alone.
    if (!b->messages.empty() &&
        (b->messages.size() >= max_messages || bytes + m->json.size() > options_.batch_max_bytes)) {
      truncated = true;
      return false;
    }
    bytes += m->json.size();
    b->messages.push_back(m);
    return true;
  };
  if (runs.size() == 1) {
    const auto& buf = *runs[0].buffer;
    for (std::size_t i = runs[0].next; i < buf.size() && take(buf[i]); ++i) {
    }
  } else if (!runs.empty()) {
    auto later = [](const Run& a, const Run& c) { return a.seq() > c.seq(); };  // min-heap
    std::make_heap(runs.begin(), runs.end(), later);
    while (!runs.empty()) {
      std::pop_heap(runs.begin(), runs.end(), later);
      Run& r = runs.back();
      if (!take((*r.buffer)[r.next])) break;
      if (++r.next < r.buffer->size()) {
        std::push_heap(runs.begin(), runs.end(), later);
      } else {
        runs.pop_back();
      }
    }
  }
  // Cut short, the cursor stops at the last message carried, so the next
  // poll takes the rest; else everything up to head was carried or gapped.
  b->cursor = truncated ? Cursor{epoch_, b->messages.back()->seq} : head();
  b->body = encode_body(*b);
  return b;
}

BatchPtr Hub::poll(Waiter& w, std::span<const std::string> channels, const Since& since,
                   Clock::duration timeout, Clock::time_point now) {
  see(now);
  if (channels.empty()) throw std::invalid_argument("poll: no channel");
  const bool ours = since.kind == Since::Kind::cursor && since.cursor.epoch == epoch_;
  if (ours && since.cursor.seq > last_seq_) {
    throw std::invalid_argument("poll: cursor past this gateway's head");
  }
  if (w.hub_ != nullptr) w.hub_->cancel(w);

  // Sorted, so that a waiter's channels have one order (the batch-sharing
  // key) and gaps are listed in name order.
  std::vector<std::string_view> names(channels.begin(), channels.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  if (since.kind == Since::Kind::cursor && !ours) {
    // Another instance, or this one before a restart: nothing can be placed
    // after that cursor here, so every channel is a gap.
    auto b = std::make_shared<Batch>();
    b->cursor = head();
    b->gaps.assign(names.begin(), names.end());
    b->body = encode_body(*b);
    count(*b);
    return b;
  }

  std::vector<ChannelRef> refs;
  refs.reserve(names.size());
  for (std::string_view n : names) {
    auto it = channels_.find(n);
    refs.push_back(ChannelRef{n, it == channels_.end() ? nullptr : it->second.get()});
  }
  std::uint64_t from = last_seq_;
  if (since.kind == Since::Kind::earliest) from = 0;
  if (since.kind == Since::Kind::cursor) from = since.cursor.seq;
  BatchPtr b = make_batch(refs, from, since.kind == Since::Kind::cursor);
  if (!b->messages.empty() || !b->gaps.empty() || timeout <= Clock::duration::zero()) {
    count(*b);
    return b;
  }
  if (!can_park()) throw std::length_error("poll: too many parked waiters");
  // Nothing after `from` is buffered or lost on these channels, so parking
  // from head is the same answer later, and lets all waiters of a channel
  // share one key (and one batch) when it is released.
  park(w, names, last_seq_, timeout, now);
  return nullptr;
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
    nd.channel->waiters.push_back(nd.link);
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
  wheel_.insert(w.links_.deadline, now + t, now);
  w.hub_ = this;
  w.state_ = Waiter::State::parked;
  ++parked_;
}

void Hub::unlink(Waiter& w) {
  for (std::uint32_t i = 0; i < w.channel_count_; ++i) {
    detail::ChannelNode& nd = node(w, i);
    nd.link.unlink();
    note_maybe_idle(*nd.channel);
  }
  wheel_.erase(w.links_.deadline);
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
