#include "fcgi/detail/deadline_queue.hpp"

#include <boost/asio/error.hpp>

#include "fcgi/detail/connection.hpp"

namespace fcgi::detail {

DeadlineQueue::DeadlineQueue(boost::asio::io_context& io, std::error_code reason)
    : timer_(io), reason_(reason) {}

DeadlineQueue::~DeadlineQueue() {
  list_.clear();
}

void DeadlineQueue::arm(Deadline& d, std::chrono::steady_clock::time_point at) {
  d.unlink();
  d.at = at;
  list_.push_back(d);
  if (!waiting_) wait();
}

void DeadlineQueue::stop() {
  list_.clear();
  timer_.cancel();
}

void DeadlineQueue::wait() {
  if (list_.empty()) {
    waiting_ = false;
    return;
  }
  waiting_ = true;
  // A front that is disarmed before it expires leaves the timer as it is:
  // it wakes up once for nothing and waits for the next front.
  timer_.expires_at(list_.front().at);
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec == boost::asio::error::operation_aborted || alive.expired()) return;
    on_timer();
  });
}

void DeadlineQueue::on_timer() {
  const auto now = std::chrono::steady_clock::now();
  while (!list_.empty() && list_.front().at <= now) {
    Deadline* front = &list_.front();
    // Closing unlinks the connection's deadlines; never spin if one stayed.
    list_.pop_front();
    front->connection->shared_from_this()->close(reason_);
  }
  wait();
}

}  // namespace fcgi::detail
