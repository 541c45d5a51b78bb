// A channel's buffered messages, in seq order: a deque that exists only
// while it holds something. std::deque allocates a 512-byte block and its
// map even when empty, and most channels a poll names are empty (a client
// waiting on a channel nobody has published to yet, or a hostile one
// naming fresh channels): they cost their name and bookkeeping only.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "gateway/core/message.hpp"

namespace comet::detail {

class MessageBuffer {
 public:
  using Deque = std::deque<MessagePtr>;
  using const_iterator = Deque::const_iterator;

  bool empty() const { return !d_; }
  std::size_t size() const { return d_ ? d_->size() : 0; }
  const MessagePtr& front() const { return d_->front(); }
  const MessagePtr& back() const { return d_->back(); }
  const MessagePtr& operator[](std::size_t i) const { return (*d_)[i]; }
  const_iterator begin() const { return (d_ ? *d_ : kNone).cbegin(); }
  const_iterator end() const { return (d_ ? *d_ : kNone).cend(); }

  void push_back(MessagePtr m) {
    if (!d_) d_ = std::make_unique<Deque>();
    d_->push_back(std::move(m));
  }
  // The deque goes with its last message.
  void pop_front() {
    d_->pop_front();
    if (d_->empty()) d_.reset();
  }

 private:
  // What an empty buffer iterates over: begin() and end() always come from
  // the same deque.
  static inline const Deque kNone{};
  std::unique_ptr<Deque> d_;  // never empty
};

}  // namespace comet::detail
