// The one guard for callbacks that may outlive the object that scheduled
// them (a posted completion, a timer's handler, a reply from a connection
// that outlives its owner's state): the object holds a Lifetime, each such
// callback a Watch taken from it, and the callback touches nothing of the
// object unless watch.alive().
#pragma once

#include <memory>

namespace comet {

class Lifetime {
 public:
  class Watch {
   public:
    bool alive() const { return !token_.expired(); }

   private:
    friend class Lifetime;
    explicit Watch(const std::shared_ptr<const char>& token) : token_(token) {}
    std::weak_ptr<const char> token_;
  };

  Lifetime() = default;
  // A copy would be a second object with its own life.
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  Watch watch() const { return Watch(token_); }
  // Every watch taken so far dies, as if the object had gone (a stop that
  // must silence what is already queued); later watches are alive.
  void renew() { token_ = std::make_shared<const char>(0); }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>(0);
};

}  // namespace comet
