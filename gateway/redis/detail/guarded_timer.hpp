// A steady_timer for objects that re-arm and cancel timers from their own
// handlers and may be destroyed with completions still queued: a completion
// runs `f` only if the timer was not re-armed or cancelled since (its
// generation still matches) and its owner is still alive (util/lifetime.hpp).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "gateway/util/lifetime.hpp"

namespace comet::detail {

class GuardedTimer {
 public:
  explicit GuardedTimer(boost::asio::io_context& io) : timer_(io) {}

  // `life` is checked before anything of this timer is touched: the owner
  // (and this timer with it) may be gone by the time the completion runs.
  template <class F>
  void arm(std::chrono::milliseconds after, Lifetime::Watch life, F f) {
    const std::uint64_t gen = ++gen_;
    timer_.expires_after(after);
    timer_.async_wait([this, gen, life = std::move(life),
                       f = std::move(f)](const boost::system::error_code& ec) mutable {
      if (ec || !life.alive() || gen_ != gen) return;
      f();
    });
  }

  void cancel() {
    ++gen_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::uint64_t gen_ = 0;
};

}  // namespace comet::detail
