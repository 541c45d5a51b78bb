// sync()'s barrier on the subscription, sans-IO: the waiters, the marker
// that is out for them, and how many copies of it must come back. In a
// cluster the marker is published on every master, since each master's
// messages reach the subscription over a link of their own (in order on
// each link only); a master whose connection fails before it could send
// its copy publishes nothing, so nothing of it is waited for.
//
// Waiters asked for while a marker is out wait for the next one: a
// marker published before they asked proves nothing for them. The
// machine never calls a waiter; it hands them back to the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace comet {

class SyncBarrier {
 public:
  using Waiter = std::function<void(bool)>;

  // True when the driver must send a marker now (none is out).
  bool add(Waiter waiter);
  // The marker for everyone waiting so far: its number, the payload to
  // publish. Then expect() with the number of copies sent (0: none could
  // be, fail_all()).
  std::uint64_t start_marker();
  void expect(std::size_t copies) { copies_left_ = copies; }

  // A marker came back on the subscription: when it was the last copy of
  // the one out, its waiters (to be told true); a stale one changes nothing.
  std::vector<Waiter> on_marker(std::string_view payload);
  // Copy of marker `marker` that will never come (see above).
  std::vector<Waiter> on_copy_lost(std::uint64_t marker);
  // After a completion: waiters that came meanwhile need a marker.
  bool next_waiting() const { return !next_.empty(); }

  // A timeout, a loss or shutdown: every waiter (to be told false).
  std::vector<Waiter> take_all();

  bool marker_out() const { return !out_.empty(); }
  std::size_t waiting() const { return out_.size() + next_.size(); }

 private:
  std::vector<Waiter> copy_came();

  std::vector<Waiter> out_, next_;
  std::uint64_t marker_ = 0;
  std::size_t copies_left_ = 0;
};

}  // namespace comet
