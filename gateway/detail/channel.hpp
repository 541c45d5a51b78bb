// One channel inside the Hub: its recent messages and its wait queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "gateway/clock.hpp"
#include "gateway/detail/intrusive_list.hpp"
#include "gateway/message.hpp"

namespace comet::detail {

struct Channel {
  explicit Channel(std::string n) : name(std::move(n)) {}

  std::string name;               // also the key of the Hub's map (a view of this)
  std::deque<MessagePtr> buffer;  // seq order, bounded by HubOptions
  std::size_t buffer_bytes = 0;   // sum of buffered json sizes
  // The seq of the newest message ever dropped from this channel (or a
  // conservative bound inherited at creation): a cursor before it has lost
  // something here and gets a gap.
  std::uint64_t dropped_seq = 0;
  ListHead waiters;  // ChannelNode::link of parked waiters
  // The receipt time under which this channel is filed in the Hub's age
  // index: a lower bound of buffer.front()->received (so the index may wake
  // early, never late); set iff buffer is not empty.
  std::optional<Clock::time_point> age_key;
  bool dirty = false;      // published to since the last flush()
  bool candidate = false;  // on the Hub's list of channels to maybe forget

  bool idle() const { return buffer.empty() && waiters.empty(); }
};

}  // namespace comet::detail
