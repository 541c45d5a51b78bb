// A parked poll, as the Hub sees it. The HTTP layer derives from Waiter and
// owns the object; while parked, the Hub links it into the wait queue of each
// of its channels and into its deadline slot (intrusive nodes, O(1) unlink).
#pragma once

#include "gateway/batch.hpp"

namespace comet {

class Hub;

class Waiter {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  bool parked() const;

 protected:
  // Unlinks from the Hub if still parked.
  virtual ~Waiter();

  // Called by the Hub with the answer, after it has unlinked this waiter
  // from every queue. The Hub does not touch the waiter afterwards: the
  // callee may destroy it, or park it again with Hub::poll (streams).
  virtual void on_release(const BatchPtr& batch) = 0;

 private:
  friend class Hub;
  // Hub-private state: nodes, cursor, deadline (see hub.cpp).
};

}  // namespace comet
