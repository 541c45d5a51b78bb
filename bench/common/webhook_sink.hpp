// A webhook receiver inside the bench: a thread that accepts the gateways'
// POSTs on a loopback port, answers each 204 at once, and notes when each
// event arrived (the bench's steady clock, the one its requests are timed
// with). Signatures are not checked: the tests do that.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/clock.hpp"

namespace bench {

struct WebhookEvent {
  std::string name, channel, user;
  Clock::time_point arrived;
};

class WebhookSink {
 public:
  WebhookSink();  // listens on a free loopback port
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  int port() const { return port_; }
  // Every event received so far, in arrival order.
  std::vector<WebhookEvent> events() const;
  long posts() const { return posts_; }
  long count(const std::string& name) const;

 private:
  void run();
  void serve(int fd);

  int listen_fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<long> posts_{0};
  mutable std::mutex mu_;
  std::vector<WebhookEvent> events_;
  std::thread thread_;
};

}  // namespace bench
