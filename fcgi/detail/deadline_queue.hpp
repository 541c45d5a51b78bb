// Deadlines of one kind (read, idle) for all connections of a server, on one
// timer. Every entry of a queue is pushed with the same timeout, so pushing
// at the back keeps the list in deadline order and arming, disarming and
// expiring are O(1); only the front needs a timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <memory>
#include <system_error>

namespace fcgi {

class Connection;

namespace detail {

// One deadline of a connection; linked while armed. Unlinks itself when
// destroyed.
struct Deadline
    : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
  explicit Deadline(Connection* c) : connection(c) {}
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool armed() const { return is_linked(); }
  void disarm() { unlink(); }

  Connection* connection;
  std::chrono::steady_clock::time_point at;
};

class DeadlineQueue {
 public:
  // Expired connections are closed with `reason`.
  DeadlineQueue(boost::asio::io_context& io, std::error_code reason);
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;
  ~DeadlineQueue();

  // (Re)arms `d` for `at`. `at` must not be earlier than that of the entries
  // already queued by more than a little (jitter): an entry behind a later
  // one expires late by that difference.
  void arm(Deadline& d, std::chrono::steady_clock::time_point at);
  // No more expiries: the server is going away.
  void stop();

 private:
  void wait();
  void on_timer();

  boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>> list_;
  boost::asio::steady_timer timer_;
  std::error_code reason_;
  bool waiting_ = false;
  // The timer handler holds a weak reference: one that completed just
  // before the queue was destroyed must not touch it.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace detail
}  // namespace fcgi
