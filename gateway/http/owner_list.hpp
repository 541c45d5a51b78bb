// The owner of objects that end at a time of their own choosing, such as a
// parked request, answered or aborted whenever the Hub or the web server
// says: it holds them in an intrusive list (O(1) in and out, no allocation
// beyond the object), destroys one when it reports itself done, and the
// rest when the owner goes. An object never deletes itself.
#pragma once

#include <boost/intrusive/list.hpp>
#include <memory>
#include <utility>

namespace comet {

// What an object of an OwnerList derives from: 16 bytes.
using OwnedHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>>;

template <class T>
class OwnerList {
 public:
  OwnerList() = default;
  OwnerList(const OwnerList&) = delete;
  OwnerList& operator=(const OwnerList&) = delete;
  ~OwnerList() { clear(); }

  T& adopt(std::unique_ptr<T> object) {
    T& t = *object.release();
    list_.push_back(t);
    return t;
  }
  // `t` must be one of ours; it is gone on return.
  void destroy(T& t) {
    list_.erase(list_.iterator_to(t));
    std::unique_ptr<T> gone(&t);
  }
  void clear() {
    list_.clear_and_dispose([](T* t) { std::unique_ptr<T> gone(t); });
  }
  bool empty() const { return list_.empty(); }

 private:
  boost::intrusive::list<T, boost::intrusive::constant_time_size<false>> list_;
};

}  // namespace comet
