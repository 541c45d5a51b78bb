// Publishing: RESP PUBLISH to Redis (comet-gateway; the bare responder's
// control port speaks the same) or HTTP POST to nchan's publisher location.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "bench/comet_bench/systems.hpp"

namespace bench {

std::string resp_publish(const std::string& channel, const std::string& payload);
std::string nchan_publish(const std::string& channel, const std::string& payload);

// Reads and discards replies (RESP integers or HTTP responses), counting them.
struct ReplyCounter {
  explicit ReplyCounter(bool h) : http(h) {}
  bool http;
  std::string in;
  std::size_t off = 0;
  long count = 0, failed = 0;
  void feed(const char* d, std::size_t n);
};

// A publisher on one or more connections, pipelined.
class Publisher {
 public:
  Publisher(System sys, int port, int connections);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  static std::string channel_name(System sys, const std::string& ch) {
    return sys != System::nchan ? "comet:" + ch : ch;
  }
  // Queues one message; spread over the connections round-robin.
  void add(const std::string& channel, const std::string& payload);
  // Writes everything queued, reading replies meanwhile (so neither side
  // stalls the other).
  void send();
  // Reads whatever replies are there, without waiting.
  void drain();
  // Waits until every queued message has its reply (or the limit).
  bool wait_replies(std::chrono::milliseconds limit);
  long failed() const;

 private:
  System sys_;
  std::vector<int> fds_;
  std::vector<std::string> out_;
  std::size_t next_ = 0;
  long queued_ = 0;
  // One per connection: a reply may arrive cut over several reads, and
  // the connections' bytes must not be interleaved.
  std::vector<ReplyCounter> counters_;
  long replies() const;
};

}  // namespace bench
