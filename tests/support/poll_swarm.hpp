// Many long-poll subscribers in one thread: each follows its cursors through
// nginx (poll(2) over non-blocking sockets, one request per connection),
// retries with the same cursor after any error, and records every message
// and gap it is given, with the time. For the fault tests: whatever a fault
// does to a subscriber shows in its record.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/wait.hpp"

namespace comet::test {

struct SwarmEvent {
  enum class Kind { message, gap } kind = Kind::message;
  std::string channel;
  long n = -1;     // the message's {"n":k}, -1 when the payload has none
  std::string id;  // the message id
  Clock::time_point at;
  std::string since;  // the cursor the poll was sent with (for diagnosis)
};

struct SubscriberRecord {
  std::vector<std::string> channels;
  std::vector<SwarmEvent> events;  // in the order received
  int errors = 0;                  // failed or non-200 polls (retried)
};

struct PollSwarmOptions {
  int port = 0;                                       // nginx
  std::vector<std::vector<std::string>> subscribers;  // channels of each
  int poll_timeout_s = 5;
  // The first poll of each: since=earliest (what is buffered), timeout 0.
  std::string first_since = "earliest";
  std::chrono::milliseconds retry_after{100};
};

class PollSwarm {
 public:
  explicit PollSwarm(PollSwarmOptions options);
  ~PollSwarm();
  PollSwarm(const PollSwarm&) = delete;
  PollSwarm& operator=(const PollSwarm&) = delete;

  // Starts the thread; returns once every subscriber has had its first
  // answer (bounded: false on timeout).
  bool start(std::chrono::milliseconds timeout);
  // Stops the thread (closing every request); records are stable after.
  void stop();
  // Returns once no message has arrived for `quiet` (or `limit` has
  // passed): the load is over and what was on its way has come.
  void wait_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) const;

  // Messages received so far, all subscribers together (thread-safe).
  std::size_t delivered() const { return delivered_.load(); }
  const std::vector<SubscriberRecord>& records() const { return records_; }

 private:
  struct Conn;
  void run();

  PollSwarmOptions options_;
  std::vector<SubscriberRecord> records_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> delivered_{0};
  std::atomic<std::size_t> started_{0};
  std::thread thread_;
};

}  // namespace comet::test
