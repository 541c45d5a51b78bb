// The owner of objects that end at a time of their own choosing, such as a
// parked request, answered or aborted whenever the Hub or the web server
// says: only it makes and destroys them (an object reports itself done and
// never deletes itself), and it counts them.
//
// It keeps no list: every parked request is answered by Hub::release_all or
// aborted by the FastCGI server before the endpoints go, so there are none
// left to destroy. A list hook would cost each parked request 16 bytes, and
// measured more: it moved PollWaiter into another malloc size class than
// the write queue's items, and the fan-out to 100,000 parked polls took 10 %
// longer (see the size check in poll_waiter.cpp).
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <utility>

namespace comet {

template <class T>
class Owner {
 public:
  Owner() = default;
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  ~Owner() { assert(live_ == 0 && "every owned object is answered or aborted first"); }

  // Takes `object` on; it lives until destroy().
  T& adopt(std::unique_ptr<T> object) {
    ++live_;
    return *object.release();
  }
  // `t` must be one of ours; it is gone on return.
  void destroy(T& t) {
    --live_;
    std::unique_ptr<T> gone(&t);
  }
  std::size_t live() const { return live_; }

 private:
  std::size_t live_ = 0;
};

}  // namespace comet
