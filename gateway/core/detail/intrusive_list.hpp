// A circular doubly-linked list with a sentinel head, whose links live inside
// the objects listed (intrusive). Unlinking needs neither the list nor a
// search, so a client that goes away leaves a queue of a million waiters in
// O(1), and linking allocates nothing. Same idea as nghttp2's
// shrpx_downstream_queue.h (dlnext/dlprev in the entry), with a sentinel so
// that a node does not need to know its list.
#pragma once

namespace comet::detail {

struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;

  bool linked() const { return next != nullptr; }
  // O(1); a no-op when not linked.
  void unlink() {
    if (!linked()) return;
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

class ListHead {
 public:
  ListHead() { sentinel_.prev = sentinel_.next = &sentinel_; }
  // Nodes point at the sentinel: the head must not move.
  ListHead(const ListHead&) = delete;
  ListHead& operator=(const ListHead&) = delete;

  bool empty() const { return sentinel_.next == &sentinel_; }
  void push_back(ListNode& n) {
    n.prev = sentinel_.prev;
    n.next = &sentinel_;
    sentinel_.prev->next = &n;
    sentinel_.prev = &n;
  }
  ListNode* front() { return empty() ? nullptr : sentinel_.next; }
  // Iteration: for (n = begin(); n != end(); n = next) with `next` read
  // before `n` is unlinked.
  ListNode* begin() { return sentinel_.next; }
  ListNode* end() { return &sentinel_; }

 private:
  ListNode sentinel_;
};

}  // namespace comet::detail
