// The driver of SwitchMasterWatch: one subscription to +switch-master,
// on one sentinel after another.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "gateway/redis/detail/guarded_timer.hpp"
#include "gateway/redis/detail/hiredis_asio.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/redis/switch_master_watch.hpp"
#include "gateway/util/lifetime.hpp"

namespace comet::detail {

class FailoverWatch {
 public:
  // `on_failover` runs with the announcement of each failover of the URL's
  // master (from inside this object's handlers: the owner may stop() it
  // from there, not destroy it). `pause`: before trying the next sentinel.
  FailoverWatch(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout,
                std::chrono::milliseconds pause,
                std::function<void(const std::string&)> on_failover, const Logger& log);
  ~FailoverWatch();
  FailoverWatch(const FailoverWatch&) = delete;
  FailoverWatch& operator=(const FailoverWatch&) = delete;

  void start();
  void stop();  // nothing runs afterwards

 private:
  void again();

  boost::asio::io_context& io_;
  const Logger& log_;
  const RedisUrl url_;
  const std::chrono::milliseconds timeout_, pause_;
  std::function<void(const std::string&)> on_failover_;
  Lifetime life_;
  SwitchMasterWatch watch_;
  std::unique_ptr<HiredisAsio> conn_;
  GuardedTimer retry_;
  std::size_t next_ = 0;
  bool running_ = false;
};

}  // namespace comet::detail
