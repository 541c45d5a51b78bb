// Sans-IO outgoing byte queue of one connection. A response is kept as its
// three parts (head, shared body, tail) plus the record headers that frame
// it; gather buffers interleave the headers with slices of the parts, so a
// body shared by thousands of responses is never copied.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "fcgi/request.hpp"

namespace fcgi::detail {

class WriteQueue {
 public:
  WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;
  ~WriteQueue() { clear(); }

  // Queues head + *body + tail as STDOUT records of at most 65535 content
  // bytes and, with `end_request`, the empty STDOUT and END_REQUEST
  // (REQUEST_COMPLETE, app status 0). `close_after` marks the point after
  // which the connection is to be closed (FCGI_KEEP_CONN unset).
  // `sent` bytes of it are already on the wire (a direct write that the
  // socket only partly took; the queue must then be empty).
  void push_response(std::uint16_t request_id, Response&& r, bool end_request, bool close_after,
                     std::size_t sent = 0);
  // Queues bytes already encoded (END_REQUEST alone, GET_VALUES_RESULT, ...).
  void push_bytes(const void* data, std::size_t size, bool close_after = false);

  // Fills at most `max` buffers with the bytes to send next, in order.
  std::size_t buffers(boost::asio::const_buffer* out, std::size_t max) const;
  // Drops `n` sent bytes. Returns true when an item marked close_after has
  // now been sent completely.
  bool consume(std::size_t n);

  bool empty() const { return head_ == nullptr; }
  // Bytes this queue holds the peer responsible for: everything still to
  // send, except that a body shared by several queued responses counts once.
  // A multiplexed fan-out (thousands of polls on one connection released
  // with the same message) costs one body, not thousands: the memory is the
  // body's, and the queue only points at it. A peer that does not read still
  // piles up framing, heads and every new body, so the limit still stops it.
  std::size_t bytes() const;
  void clear();

 private:
  // Record headers of one item. A response of one record needs 32 bytes
  // (STDOUT header, empty STDOUT, END_REQUEST): kept inline, so queueing a
  // response allocates only its Item; longer framing spills to the heap.
  class Framing {
   public:
    void append(const void* data, std::size_t n);
    const char* data() const { return big_.empty() ? small_ : big_.data(); }
    std::size_t size() const { return size_; }

   private:
    char small_[32];
    std::size_t size_ = 0;
    std::string big_;
  };

  struct Item {
    std::unique_ptr<Item> next;
    std::string head;
    std::shared_ptr<const std::string> body;
    std::string tail;
    // `records` STDOUT headers, then any trailing records (END_REQUEST...).
    Framing framing;
    std::size_t stream_len = 0;
    std::size_t size = 0;  // bytes on the wire
    std::size_t sent = 0;
    std::uint32_t records = 0;
    bool close_after = false;
  };

  // Calls f(data, size) for each contiguous piece of the item in wire
  // order until f returns false.
  template <class F>
  static void for_each_piece(const Item& item, F&& f);
  void push(std::unique_ptr<Item> item);
  void pop();
  std::size_t body_size(const Item& item) const { return item.body ? item.body->size() : 0; }

  std::unique_ptr<Item> head_;
  Item* tail_ = nullptr;
  // Framing, head and tail bytes of every queued item, plus each distinct
  // body once; the head item's progress is subtracted by bytes().
  std::size_t counted_ = 0;
  // Queued items referencing each body. Keys stay valid: the items keep
  // their bodies alive.
  std::unordered_map<const std::string*, std::size_t> body_refs_;
};

}  // namespace fcgi::detail
