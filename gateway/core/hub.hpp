// The Hub: channels, their message buffers and wait queues, and the single
// order in which messages are numbered. Pure logic: no sockets, no clock
// (time is passed in), owned by one event loop, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/core/batch.hpp"
#include "gateway/core/batch_encoder.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/cursor.hpp"
#include "gateway/core/detail/deadline_wheel.hpp"
#include "gateway/core/presence_event.hpp"
#include "gateway/core/stream_marks.hpp"
#include "gateway/core/stream_read.hpp"
#include "gateway/core/waiter.hpp"

namespace comet {

struct HubOptions {
  // Per-channel buffer: the oldest messages are dropped past any bound, and
  // a cursor before a dropped message is answered with a gap.
  std::size_t buffer_max_messages = 1000;
  std::size_t buffer_max_bytes = 8 * 1024 * 1024;
  Clock::duration buffer_max_age = std::chrono::minutes(5);
  // One response: at most this many messages / bytes of message JSON. The
  // byte cap is soft: a batch always carries at least one message.
  std::size_t batch_max_messages = 1000;
  std::size_t batch_max_bytes = 1024 * 1024;
  // Parked waiters in all; poll() refuses past it (HTTP 503).
  std::size_t max_waiters = 1'000'000;
  // Channels held in all, as far as parked waiters make them: poll()
  // refuses (channels_full) a waiter that would park on channels not held
  // yet past it. Messages still create the channels they are published to.
  std::size_t max_channels = 500'000;
  // Message bytes buffered in all channels together: past it, messages are
  // dropped from the channels holding the oldest ones first (cursors before
  // them get a gap), each channel's newest message excepted.
  std::size_t max_buffered_bytes = 256 * 1024 * 1024;
  // A deadline is drawn uniformly from [timeout * (1 - jitter), timeout], so
  // that polls parked together do not all return together.
  double timeout_jitter = 0.1;
  // Deadlines are kept in slots of this width (a timing wheel): a million
  // parked waiters cost no per-waiter timer.
  Clock::duration tick = std::chrono::milliseconds(100);
  std::uint64_t seed = 1;  // for the jitter
  // A stream id's time part is Redis's clock: a position more than this
  // ahead of the wall clock was not issued by a gateway (reads_needed).
  std::chrono::milliseconds position_skew = std::chrono::seconds(60);
};

struct HubCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t messages_delivered = 0;  // message copies in responses
  std::uint64_t gaps = 0;                // channel names reported in gaps
  std::uint64_t messages_dropped = 0;    // evicted from buffers
  // Durable messages received twice (live and by a stream read) and
  // delivered once.
  std::uint64_t durable_duplicates = 0;
  // Plain messages on a durable channel: each ends that channel's window.
  std::uint64_t durable_windows_dropped = 0;
};

// What Hub::poll did with a poll.
enum class PollStatus {
  answered,       // `batch` is the answer, now
  parked,         // the waiter waits for flush/gap_all/expire/release_all
  bad_cursor,     // a cursor from a future position of this epoch: not ours
  no_channel,     // an empty channel list
  full,           // it would have to wait, and max_waiters are parked
  channels_full,  // it would have to wait on new channels past max_channels
};

struct PollResult {
  PollStatus status = PollStatus::parked;
  BatchPtr batch;  // answered only
};

// How poll() places the plain part of a cursor (Hub::source_of).
enum class CursorSource {
  own,       // this gateway's order (its epoch): placed by seq
  stream,    // a stream position this gateway holds: placed as exactly
  unplaced,  // another gateway's order, or a stream position not (yet) held here
};

// Why a durable position of a poll is answered with a gap and no stream
// read (see reads_needed): no gateway could have issued it, or reading it
// would pass the poll's or the gateway's read budget.
enum class PositionRefusal : std::uint8_t {
  future,    // its stream id's time is ahead of the clock by more than position_skew
  ahead,     // ahead of a synced window, with the subscription caught up
  per_poll,  // past the reads one poll may make
  budget,    // the gateway's reads in flight and queued are at their count or bytes
};
inline constexpr std::size_t kPositionRefusals = 4;

// What placing a poll's durable positions produced: the stream reads done
// for it, by channel name, and the channels whose positions are answered
// with a gap without a read.
struct PollReads {
  std::map<std::string, StreamRead, std::less<>> reads;
  std::set<std::string, std::less<>> gaps;
};

// What reads_needed() may ask for.
struct ReadLimits {
  // Reads this poll may still make (one per channel at most in any case).
  std::size_t max_reads = std::numeric_limits<std::size_t>::max();
  // The wall clock in ms since the Unix epoch, for stream ids' time part
  // (none: not checked).
  std::optional<std::uint64_t> wall_ms;
  // The subscription has delivered everything published before the poll's
  // cursor was issued: the cursor is this instance's, or another's placed
  // after a barrier.
  bool caught_up = false;
};

// The reads a poll needs, and the positions refused without one.
struct ReadPlan {
  std::vector<ReadNeed> reads;  // sorted by channel, one per channel at most
  std::vector<std::pair<std::string, PositionRefusal>> refused;
  // Positions that name no channel of the poll (or two channels with the
  // same hash): ignored, and left out of the next cursor.
  std::size_t unmatched = 0;
};

class Hub {
 public:
  // `epoch` tells this gateway's cursors from any other's (random per start).
  // `encoder` writes messages and batch bodies; it outlives the Hub.
  Hub(HubOptions options, std::uint64_t epoch, const BatchEncoder& encoder);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  std::uint64_t epoch() const;
  // The cursor after the newest message: a stream position once a mark has
  // been heard since the subscription (re)started, else this gateway's seq.
  Cursor head() const;
  // A mark of the pub/sub stream (stream_marks.hpp), heard on the
  // subscription in order with the messages receive() is given.
  void mark(std::uint64_t id);
  // Whether poll() can place `c` now. A stream position that is `unplaced`
  // may name a mark or messages on their way here still (another gateway
  // heard them first): a barrier on the subscription settles that.
  CursorSource source_of(const Cursor& c) const;

  // A message from Redis, at the ordering point: numbers it (in the Hub's
  // order and in the stream's, see mark()), encodes it once and appends it
  // to its channel's buffer. Completes no waiter: call flush()
  // after a burst, so one response carries the whole burst.
  // With `id`, the message is durable (its stream entry id): it extends the
  // channel's window, or waits while the window is not synced, or is a
  // duplicate of what a stream read already brought; nullptr then.
  MessagePtr receive(std::string_view channel, std::string_view payload, Clock::time_point now,
                     const StreamId* id = nullptr);
  // A join or leave on a presence channel (presence_event.hpp), heard on the
  // subscription in order with the messages: numbered and buffered as a
  // plain message of `channel`, encoded as an event (BatchEncoder::presence).
  // Completes no waiter: call flush().
  MessagePtr receive_presence(std::string_view channel, const PresenceEvent& event,
                              Clock::time_point now);
  // Releases every parked waiter that has messages now. Completes waiters.
  std::size_t flush(Clock::time_point now);

  // Messages for plain channels were lost (the subscription was down): every
  // cursor issued before this call now names a gap for its channels. Parked
  // waiters stay parked and carry the gap in their next answer (a message
  // on one of their channels, or their timeout), so a link that drops and
  // comes back again and again does not answer every parked poll each
  // time. Completes no waiter.
  void gap_all(Clock::time_point now);

  // ---- Durable channels ----
  // The subscription went down / came up: every window waits for a read
  // from its top (next_resync) before live messages extend it again.
  void link_down();
  void link_up();
  // Reads of the stream that poll() needs to answer `since` on `channels`
  // without a gap: a position behind what is held (gateway restart, another
  // instance, eviction), ahead of it (another instance heard more already),
  // or on a channel not held at all; at most one per channel and
  // `limits.max_reads` in all, none already in `done` (an earlier round).
  // Positions that no gateway could have issued, and those past
  // max_reads, are refused: poll() answers them with a gap once they are
  // in PollReads::gaps. O(channels of the poll).
  ReadPlan reads_needed(std::span<const std::string> channels, const Since& since,
                        const ReadLimits& limits = {}, const PollReads* done = nullptr) const;
  // The next window that waits for a read from its top (after a loss, or
  // a read that did not sync it), taken off the Hub's queue of them:
  // O(1) amortised, never a scan of the channels.
  std::optional<ReadNeed> next_resync();
  // Queues `channel`'s window again (its resync read failed or was refused).
  void resync_later(std::string_view channel);
  std::size_t resyncs_waiting() const { return resyncs_.size(); }
  // Taken when a read of `channel` is sent to Redis.
  ReadToken read_token(std::string_view channel) const;
  // What a read of `channel` after `from` answered: starts or extends the
  // channel's window (deduplicating by stream id), syncs it when the token
  // allows, else queues it for next_resync. Completes no waiter: call
  // flush(). Touches only `channel`.
  void apply_read(std::string_view channel, StreamId from, const StreamRead& read,
                  const ReadToken& token, Clock::time_point now);
  // An empty answer that leaves the client where `cursor` was.
  BatchPtr unchanged(const Cursor& cursor) const;

  // A poll on `channels` (valid names, duplicates allowed) from `since`.
  // Answers with the batch when there is something to say now (messages,
  // gaps, timeout == 0); otherwise parks `w` until flush/gap_all/expire/
  // release_all. Refuses, leaving `w` unparked, a cursor from a future
  // position of this epoch (not ours: HTTP 400), an empty `channels`, and
  // parking past max_waiters (HTTP 503). A `w` still parked is re-polled
  // (its old poll is cancelled). Completes no waiter other than by
  // returning.
  // Batch gaps list channel names sorted, without duplicates.
  // Durable channels are placed by their positions in the cursor; `reads`
  // holds the reads done for reads_needed(): a position still not placeable
  // is answered from its read (those messages only, at once), else a gap;
  // so is one in reads->gaps.
  PollResult poll(Waiter& w, std::span<const std::string> channels, const Since& since,
                  Clock::duration timeout, Clock::time_point now, const PollReads* reads = nullptr);
  bool can_park() const;
  // Unlinks a parked waiter without answering it (the client went away).
  // Also withdraws an on_release still pending in the current release pass.
  void cancel(Waiter& w);

  // Releases waiters whose deadline has passed with an empty batch, drops
  // messages past the age bound, forgets channels with nothing left.
  // Completes waiters.
  void expire(Clock::time_point now);
  // When expire() has work next: the next deadline slot, or the oldest
  // buffered message's age-out; nullopt when there is nothing to do. May be
  // the last time seen (already past) when channels wait to be forgotten,
  // and a little early (never late) after deadlines a wheel turn away.
  std::optional<Clock::time_point> next_wakeup() const;

  // Shutdown: every parked waiter gets an empty batch with its cursor.
  // (Should messages be published and not yet flushed, they are in it rather
  // than skipped.) Completes waiters.
  void release_all();

  std::size_t parked() const;
  // Each channel with parked waiters (polls and streams), and how many: the
  // channel's clients. O(channels).
  void for_each_occupied(
      const std::function<void(std::string_view channel, std::size_t clients)>& f) const;
  std::size_t channels() const;  // with waiters or buffered messages
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  std::size_t stream_marks() const { return marks_.marks(); }
  const HubCounters& counters() const;

  // Destroying the Hub detaches parked waiters without answering them.
  // Calling into the Hub from on_release: poll, cancel, receive and flush
  // are fine; destroying the Hub is not.

 private:
  friend class Waiter;
  using Channel = detail::Channel;

  // A requested channel: its name and, when the Hub knows it, the channel;
  // where the answer starts on it.
  struct ChannelRef {
    std::string_view name;
    Channel* channel;         // nullptr: unknown (never seen, or forgotten)
    std::uint64_t since = 0;  // messages after this seq
    bool gap = false;
    // The durable position before the answer (omitted from the cursor when
    // unknown, or when another channel of the poll has the same hash).
    std::optional<StreamId> start;
  };
  struct AgeLess {
    bool operator()(const std::pair<Clock::time_point, Channel*>& a,
                    const std::pair<Clock::time_point, Channel*>& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::less<Channel*>()(a.second, b.second);
    }
  };

  Channel& get_or_create(std::string_view name);
  // Why a waiter on `refs` may not park now (the totals), if it may not.
  std::optional<PollStatus> refuse_parking(std::span<const ChannelRef> refs) const;
  // Drops messages past options_.max_buffered_bytes.
  void enforce_buffered_bytes();
  // Numbers, encodes and buffers one message (receive and stream reads).
  // `live`: heard on the subscription (so counted in the stream's order).
  // `presence`: the message is that event (encoded as one).
  MessagePtr append(Channel& c, std::string_view payload, Clock::time_point now, const StreamId* id,
                    bool live, const PresenceEvent* presence = nullptr);
  // The cursor of a client that has everything up to `seq`.
  Cursor cursor_at(std::uint64_t seq) const;
  // The seq poll() places the plain part of `since` at, if it can.
  std::optional<std::uint64_t> placed_seq(const Since& since) const;
  // Evicts past the buffer bounds. Durable messages not yet flushed stay:
  // parked waiters are placed by seq and must get them, not a gap.
  void trim(Channel& c);
  void mark_dirty(Channel& c);
  void start_window(Channel& c, StreamId base, bool synced);
  void drain_pending(Channel& c, Clock::time_point now);
  // A seq cursor's gap on `c` (nullptr: unknown channel).
  bool seq_gap(const Channel* c, std::uint64_t since) const;
  // The position of a client that has `c` up to seq `s`.
  std::optional<StreamId> position_at(const Channel* c, std::uint64_t s) const;
  // The seq after which `c` has nothing at or before position p (base <= p).
  std::uint64_t seq_after(const Channel& c, StreamId p) const;
  BatchPtr direct_batch(std::span<ChannelRef> refs, const std::vector<std::size_t>& direct,
                        const std::vector<StreamId>& from, const PollReads& reads,
                        std::optional<std::uint64_t> placed) const;
  void finish(Batch& b, std::span<const ChannelRef> refs,
              const std::vector<std::optional<StreamId>>& ends) const;
  void note_maybe_idle(Channel& c);
  void evict_front(Channel& c);
  void file_by_age(Channel& c);
  void evict_aged(Clock::time_point now);
  void forget_idle_channels();
  void queue_resync(Channel& c);

  // Poll and release compute batches with this one function, so that a
  // released waiter gets exactly what poll() would have answered.
  // `foreign`: the cursor is another gateway's, so a cut answer still
  // moves the seq to head (durable positions carry the progress).
  BatchPtr make_batch(std::span<const ChannelRef> channels, bool foreign) const;
  // Whether make_batch would carry anything: a gap, or a buffered message
  // after some channel's `since`.
  static bool has_news(std::span<const ChannelRef> channels);
  // The smallest seq > `since` at which the answer for `channels` changes
  // (a buffered message, a drop, a gap_all); 0 when none does: the key
  // under which waiters get the same batch within one release pass.
  std::uint64_t next_change(std::span<const ChannelRef> channels, std::uint64_t since) const;
  void count(const Batch& b);

  detail::ChannelNode& node(Waiter& w, std::uint32_t i);
  void park(Waiter& w, std::span<const std::string_view> names, std::uint64_t since,
            Clock::duration timeout, Clock::time_point now);
  // Unlinks from every channel queue and the wheel; keeps the nodes'
  // channel pointers so the batch can still be computed.
  void unlink(Waiter& w);
  // Computes the batches for waiters already unlinked, then calls their
  // on_release; forgets idle channels in between when asked (expire).
  void release(std::vector<Waiter*>& waiters, bool forget_channels);
  void collect_wheel(std::vector<detail::DeadlineNode*>& nodes, std::vector<Waiter*>& out);
  void see(Clock::time_point now);

  HubOptions options_;
  std::uint64_t epoch_;
  const BatchEncoder& encoder_;
  std::uint64_t last_seq_ = 0;
  std::size_t buffered_bytes_ = 0;  // encoded bytes in every channel's buffer
  // Every cursor before it names a gap on every channel (gap_all).
  std::uint64_t gap_seq_ = 0;
  // The newest seq dropped by any forgotten channel: an unknown channel may
  // be a forgotten one, so a cursor before it gets a gap there.
  std::uint64_t forgotten_seq_ = 0;
  // The stream's order: forgotten at every loss of the subscription, so
  // no position is placed across a hole in what this gateway heard.
  StreamMarks marks_;
  // Subscription state, for ReadToken.
  std::uint64_t link_gen_ = 0;
  bool link_up_ = false;
  std::uint64_t window_gens_ = 0;  // DurableWindow::gen values, never reused
  // Names of channels whose windows wait for a read from their top, each
  // queued once (Channel::resync_queued); a name whose channel is gone or
  // synced since is skipped when taken.
  std::deque<std::string> resyncs_;
  // Keys are views of Channel::name; the unique_ptr keeps channels (their
  // queue sentinels) at fixed addresses.
  std::unordered_map<std::string_view, std::unique_ptr<Channel>> channels_;
  std::vector<Channel*> dirty_;
  std::vector<Channel*> candidates_;  // may be idle: forgotten in expire()
  // Non-empty channels by (a lower bound of) their oldest message's
  // receipt: next_wakeup() needs the earliest age-out without a scan.
  std::set<std::pair<Clock::time_point, Channel*>, AgeLess> age_index_;
  detail::DeadlineWheel wheel_;
  std::mt19937_64 rng_;
  std::size_t parked_ = 0;
  std::optional<Clock::time_point> last_now_;
  HubCounters counters_;
};

}  // namespace comet
