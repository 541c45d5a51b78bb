#include "gateway/redis/detail/failover_watch.hpp"

#include <hiredis/hiredis.h>

#include <utility>

#include "gateway/redis/commands.hpp"

namespace comet::detail {

FailoverWatch::FailoverWatch(boost::asio::io_context& io, RedisUrl url,
                             std::chrono::milliseconds timeout, std::chrono::milliseconds pause,
                             std::function<void(const std::string&)> on_failover, const Logger& log)
    : io_(io),
      log_(log),
      url_(std::move(url)),
      timeout_(timeout),
      pause_(pause),
      on_failover_(std::move(on_failover)),
      watch_(url_.master_name),
      retry_(io) {}

FailoverWatch::~FailoverWatch() {
  stop();
}

void FailoverWatch::start() {
  running_ = true;
  const auto& sentinels = url_.sentinels;
  const std::size_t index = next_++ % sentinels.size();
  RedisUrl at;
  at.host = sentinels[index].host;
  at.port = sentinels[index].port;
  HiredisAsio::Events ev;
  ev.on_connected = [this] {
    auto auth = sentinel_auth_command(url_);
    if (!auth.empty()) {
      conn_->command(auth, [this](const redisReply& r) {
        if (r.type == REDIS_REPLY_ERROR) again();
      });
    }
    bool sent = conn_->command({"SUBSCRIBE", "+switch-master"}, [this](const redisReply& r) {
      auto ev = watch_.on_reply(r);
      if (ev.type == SwitchMasterWatch::Event::Type::lost) {
        again();
      } else if (ev.type == SwitchMasterWatch::Event::Type::failover) {
        on_failover_(ev.text);  // last: the owner may stop() us from here
      }
    });
    if (!sent) again();
  };
  ev.on_connect_failed = [this](const std::string&) { again(); };
  ev.on_disconnected = [this](const std::string&) { again(); };
  conn_ = std::make_unique<HiredisAsio>(io_, std::move(ev), log_);
  conn_->connect(at, timeout_);
}

void FailoverWatch::stop() {
  running_ = false;
  retry_.cancel();
  conn_.reset();
}

// The next sentinel, after a pause: the watch is a shortcut (the
// heartbeat and ROLE catch a stale master too), so no hurry.
void FailoverWatch::again() {
  conn_.reset();  // safe inside its own handlers (HiredisAsio)
  if (!running_) return;
  retry_.arm(pause_, life_.watch(), [this] { start(); });
}

}  // namespace comet::detail
