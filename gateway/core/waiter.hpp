// A parked poll, as the Hub sees it. The HTTP layer derives from Waiter and
// owns the object; while parked, the Hub links it into the wait queue of each
// of its channels and into its deadline slot (intrusive nodes, O(1) unlink).
#pragma once

#include <cstdint>
#include <memory>

#include "gateway/core/batch.hpp"
#include "gateway/core/detail/wait_links.hpp"

namespace comet {

class Hub;

class Waiter {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  bool parked() const;
  // The channels it is parked on, or was last parked on.
  std::uint32_t channel_count() const { return channel_count_; }

 protected:
  // Unlinks from the Hub if still parked.
  virtual ~Waiter();

  // Called by the Hub with the answer, after it has unlinked this waiter
  // from every queue. The Hub does not touch the waiter afterwards: the
  // callee may destroy it, or park it again with Hub::poll (streams).
  virtual void on_release(const BatchPtr& batch) = 0;

 private:
  friend class Hub;
  // Hub-private state. Its size is the Hub's cost of a parked poll on one
  // channel (no allocation): 88 bytes on LP64, plus 32 bytes in one array
  // per further channel (see the static_assert in hub.cpp).
  enum class State : std::uint8_t {
    idle,
    parked,     // linked into channel queues and the deadline wheel
    releasing,  // unlinked, its on_release call is pending in the Hub
  };

  Hub* hub_ = nullptr;  // while parked or releasing
  detail::WaiterLinks links_;
  // Nodes for channels 2..n of a multi-channel poll.
  std::unique_ptr<detail::ChannelNode[]> more_nodes_;
  union {
    // While parked: everything up to here on its channels was answered.
    std::uint64_t since_seq_ = 0;
    // While releasing: the Hub's pending entry, cleared if the waiter is
    // destroyed or cancelled before its turn (by another's on_release).
    Waiter** release_slot_;
  };
  std::uint32_t channel_count_ = 0;
  State state_ = State::idle;
};

}  // namespace comet
