// The links a parked Waiter carries for the Hub. They live inside the Waiter
// (and, for polls on several channels, in one array beside it), so parking
// allocates nothing for a single-channel poll and unparking is O(1) per link.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gateway/core/detail/intrusive_list.hpp"

namespace comet {
class Waiter;
}

namespace comet::detail {

struct Channel;

// In a deadline wheel slot.
struct DeadlineNode {
  ListNode link;  // first: a ListNode* of a slot converts back to this
  std::int64_t due_tick = 0;
};

// In one channel's wait queue. Knows its waiter (to release it) and its
// channel (to compute the waiter's batch and to notice a channel emptied).
struct ChannelNode {
  ListNode link;  // first: a ListNode* of a queue converts back to this
  Waiter* waiter = nullptr;
  Channel* channel = nullptr;
};

// Standard layout with `deadline` first, so the wheel's DeadlineNode* leads
// back to `first.waiter` without a waiter pointer of its own (offsetof on the
// polymorphic Waiter is not portable; this is).
struct WaiterLinks {
  DeadlineNode deadline;
  ChannelNode first;
};

// The casts below are only sound for standard-layout types (their first
// member is pointer-interconvertible with them).
static_assert(std::is_standard_layout_v<DeadlineNode>);
static_assert(std::is_standard_layout_v<ChannelNode>);
static_assert(std::is_standard_layout_v<WaiterLinks>);

inline ChannelNode* channel_node_of(ListNode* n) {
  return reinterpret_cast<ChannelNode*>(n);
}
inline DeadlineNode* deadline_node_of(ListNode* n) {
  return reinterpret_cast<DeadlineNode*>(n);
}
inline WaiterLinks* links_of(DeadlineNode* n) {
  return reinterpret_cast<WaiterLinks*>(n);
}

}  // namespace comet::detail
