// One channel inside the Hub: its recent messages and its wait queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/clock.hpp"
#include "gateway/core/detail/message_buffer.hpp"
#include "gateway/core/detail/wait_links.hpp"
#include "gateway/core/message.hpp"
#include "gateway/core/stream_id.hpp"

namespace comet::detail {

// What a gateway holds of a durable channel's stream: every entry after
// `base` up to `top` is in the channel's buffer (the messages with seq >
// base_seq, all durable, ids increasing) or was evicted from it, which moves
// base up. Only a contiguous run of the stream: live messages extend it
// while it is `synced` (the subscription has been up since its last sync
// point); after a loss it waits for a read of the stream from `top`, and
// live messages that arrive meanwhile wait in `pending`.
struct DurableWindow {
  StreamId base;
  StreamId top;
  // Every message of the channel with seq <= base_seq has id <= base.
  std::uint64_t base_seq = 0;
  // The Hub's seq when the window began: a seq cursor at or after it has
  // followed the window, which a resubscription does not break.
  std::uint64_t start_seq = 0;
  bool synced = true;
  // Changes whenever a read sent earlier must not sync the window any more
  // (a loss, a resubscription, pending overflow, a restart of the window).
  std::uint64_t gen = 0;
  std::vector<std::pair<StreamId, std::string>> pending;
  std::size_t pending_bytes = 0;  // payload bytes in pending, bounded like a buffer
};

struct Channel {
  explicit Channel(std::string n) : name(std::move(n)) {}

  std::string name;              // also the key of the Hub's map (a view of this)
  MessageBuffer buffer;          // seq order, bounded by HubOptions
  std::size_t buffer_bytes = 0;  // sum of buffered json sizes
  // The seq of the newest message ever dropped from this channel (or a
  // conservative bound inherited at creation): a cursor before it has lost
  // something here and gets a gap.
  std::uint64_t dropped_seq = 0;
  WaitQueue waiters;         // of parked waiters
  std::uint32_t parked = 0;  // in `waiters`
  // The receipt time under which this channel is filed in the Hub's age
  // index: a lower bound of buffer.front()->received (so the index may wake
  // early, never late); set iff buffer is not empty.
  std::optional<Clock::time_point> age_key;
  // Set while the channel is durable (it has had a durable message, or a
  // stream read, since the Hub last had it). A plain message drops it.
  // Held apart: most channels are plain and never have one.
  std::unique_ptr<DurableWindow> window;
  bool dirty = false;          // published to since the last flush()
  bool candidate = false;      // on the Hub's list of channels to maybe forget
  bool resync_queued = false;  // on the Hub's queue of windows waiting for a read

  bool idle() const { return buffer.empty() && is_empty(waiters); }
};

}  // namespace comet::detail
