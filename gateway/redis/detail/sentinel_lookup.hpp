// The driver of SentinelResolve: the short-lived connections to the
// sentinels, and the timer that turns a silent one into an event.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/redis/detail/guarded_timer.hpp"
#include "gateway/redis/detail/hiredis_asio.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/redis/sentinel_resolve.hpp"
#include "gateway/util/lifetime.hpp"

namespace comet::detail {

class SentinelLookup {
 public:
  // `url`: a redis-sentinel:// URL; what resolve() finds is this URL with
  // the master's host and port.
  SentinelLookup(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout,
                 const Logger& log);
  ~SentinelLookup();
  SentinelLookup(const SentinelLookup&) = delete;
  SentinelLookup& operator=(const SentinelLookup&) = delete;

  // One round: `found` runs from a fresh stack with the master's URL, or
  // `failed` with why no sentinel named it (from inside this object's
  // handlers: the owner may stop() it from there, not destroy it).
  void resolve(std::function<void(const RedisUrl&)> found,
               std::function<void(const std::string&)> failed);
  // Drops the round in progress; neither callback runs afterwards.
  void stop();

 private:
  void drive(SentinelResolve::Action a);

  boost::asio::io_context& io_;
  const Logger& log_;
  const RedisUrl url_;
  const std::chrono::milliseconds timeout_;
  Lifetime life_;
  SentinelResolve resolve_;
  std::unique_ptr<HiredisAsio> conn_;
  GuardedTimer timer_;
  std::uint64_t gen_ = 0;  // a found() posted before stop() is dropped
  std::function<void(const RedisUrl&)> found_;
  std::function<void(const std::string&)> failed_;
};

}  // namespace comet::detail
