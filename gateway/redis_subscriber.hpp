// The Redis side: one hiredis async connection subscribed to `<prefix>*`,
// and one for commands (the heartbeat PUBLISH now, durable reads later),
// both driven by Asio through detail/hiredis_asio. Reconnects by itself with
// exponential backoff and jitter; a subscription that hears nothing (not even
// its own heartbeat) for three heartbeat intervals is taken as dead.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/redis_url.hpp"

namespace comet {

struct RedisSubscriberOptions {
  RedisUrl url;
  std::string prefix = "comet:";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds heartbeat_interval{5000};
};

struct RedisSubscriberCallbacks {
  // A message on `<prefix><channel>`; `channel` has the prefix removed.
  // Heartbeats are not passed on. Called for each message of a read burst.
  std::function<void(std::string_view channel, std::string_view payload)> on_message;
  // The end of a read burst that delivered at least one message: the place
  // to flush waiters once for the whole burst.
  std::function<void()> on_burst_end;
  // The subscription is confirmed (first time and after every reconnect).
  // `resumed` is false the first time, true after a loss.
  std::function<void(bool resumed)> on_subscribed;
  // The subscription was lost; messages published from now until the next
  // on_subscribed are not seen.
  std::function<void()> on_down;
};

class RedisSubscriber {
 public:
  RedisSubscriber(boost::asio::io_context& io, RedisSubscriberOptions options,
                  RedisSubscriberCallbacks callbacks);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  // Disconnects both connections; no callback runs afterwards.
  void stop();

  bool up() const;  // subscribed now
  std::uint64_t reconnects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace comet
