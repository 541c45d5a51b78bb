// The links a parked Waiter carries for the Hub, and the typed intrusive
// lists they are linked into. They live inside the Waiter (and, for polls on
// several channels, in one array beside it), so parking allocates nothing
// for a single-channel poll and unparking is O(1) per link, without the list
// or a search: a client that goes away leaves a queue of a million waiters
// at once (as nghttp2's shrpx_downstream_queue.h does). The lists are
// Boost.Intrusive's, with the hook idiom of fcgi/detail/deadline_queue.hpp.
#pragma once

#include <boost/intrusive/list.hpp>
#include <cstdint>

namespace comet {
class Waiter;
}

namespace comet::detail {

struct Channel;

// auto_unlink: a node leaves its list when destroyed, and unlink() on a node
// that is not linked does nothing. It requires constant_time_size<false>,
// which also keeps a list head at two pointers and unlinking free of the
// list.
using ListHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
template <class Node>
using IntrusiveList = boost::intrusive::list<Node, boost::intrusive::constant_time_size<false>>;

// Whether `l` has no node: list::empty() also allows for a head that was
// never initialised, which a constructed list never is. One comparison
// instead of two, on the paths that unlink every parked waiter.
template <class Node>
bool is_empty(const IntrusiveList<Node>& l) {
  return l.begin() == l.end();
}

// In a deadline wheel slot.
struct DeadlineNode : ListHook {
  std::int64_t due_tick = 0;
};
using DeadlineSlot = IntrusiveList<DeadlineNode>;

// In one channel's wait queue. Knows its waiter (to release it) and its
// channel (to compute the waiter's batch and to notice a channel emptied).
struct ChannelNode : ListHook {
  Waiter* waiter = nullptr;
  Channel* channel = nullptr;
};
using WaitQueue = IntrusiveList<ChannelNode>;

// Its deadline node is its base, so the wheel's DeadlineNode leads back to
// `first.waiter` (waiter_of) without a waiter pointer of its own: that would
// cost 8 bytes per parked waiter.
struct WaiterLinks : DeadlineNode {
  ChannelNode first;
};

// The waiter of a deadline node that the Hub parked (a Waiter's links_; not
// a bare DeadlineNode). The one downcast of the links: a static_cast along
// the class hierarchy, so the compiler checks the types and the offset.
inline Waiter& waiter_of(DeadlineNode& n) {
  return *static_cast<WaiterLinks&>(n).first.waiter;
}

}  // namespace comet::detail
