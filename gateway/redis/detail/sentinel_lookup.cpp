#include "gateway/redis/detail/sentinel_lookup.hpp"

#include <boost/asio/post.hpp>
#include <utility>

#include "gateway/redis/commands.hpp"

namespace comet::detail {

using Type = SentinelResolve::Action::Type;

SentinelLookup::SentinelLookup(boost::asio::io_context& io, RedisUrl url,
                               std::chrono::milliseconds timeout, const Logger& log)
    : io_(io),
      log_(log),
      url_(std::move(url)),
      timeout_(timeout),
      resolve_(url_.sentinels, url_.master_name, sentinel_auth_command(url_)),
      timer_(io) {}

SentinelLookup::~SentinelLookup() {
  stop();
}

void SentinelLookup::resolve(std::function<void(const RedisUrl&)> found,
                             std::function<void(const std::string&)> failed) {
  found_ = std::move(found);
  failed_ = std::move(failed);
  drive(resolve_.start());
}

void SentinelLookup::stop() {
  ++gen_;
  timer_.cancel();
  conn_.reset();
  found_ = nullptr;
  failed_ = nullptr;
}

// Every handler below belongs to conn_ or timer_, both replaced or dropped
// by the next connect or end: none of them sees a later sentinel's state.
void SentinelLookup::drive(SentinelResolve::Action a) {
  switch (a.type) {
    case Type::wait:
      return;
    case Type::connect: {
      timer_.cancel();
      conn_.reset();  // safe inside its own handlers (HiredisAsio)
      RedisUrl at;
      at.host = a.sentinel.host;
      at.port = a.sentinel.port;
      HiredisAsio::Events ev;
      ev.on_connected = [this] { drive(resolve_.on_connected()); };
      ev.on_connect_failed = [this](const std::string& why) { drive(resolve_.on_error(why)); };
      ev.on_disconnected = [this](const std::string& why) { drive(resolve_.on_error(why)); };
      conn_ = std::make_unique<HiredisAsio>(io_, std::move(ev), log_);
      conn_->connect(at, timeout_);
      // Covers the connect and the answer.
      timer_.arm(timeout_, life_.watch(),
                 [this] { drive(resolve_.on_error("no answer in time")); });
      return;
    }
    case Type::send: {
      // Pipelined: a refused AUTH drops the connection before the
      // command's own (NOAUTH) answer is looked at.
      if (!a.auth.empty()) {
        conn_->command(a.auth, [this](const redisReply& r) { drive(resolve_.on_auth_reply(r)); });
      }
      bool sent =
          conn_->command(a.command, [this](const redisReply& r) { drive(resolve_.on_reply(r)); });
      if (!sent) drive(resolve_.on_error("cannot send SENTINEL"));
      return;
    }
    case Type::found: {
      timer_.cancel();
      conn_.reset();
      RedisUrl master = url_;
      master.host = a.master.host;
      master.port = a.master.port;
      auto found = std::move(found_);
      failed_ = nullptr;
      boost::asio::post(io_, [life = life_.watch(), this, gen = gen_, found = std::move(found),
                              master = std::move(master)] {
        if (life.alive() && gen_ == gen && found) found(master);
      });
      return;
    }
    case Type::failed: {
      timer_.cancel();
      conn_.reset();
      auto failed = std::move(failed_);
      found_ = nullptr;
      if (failed) failed(a.why);  // last: the owner may stop() us from here
      return;
    }
  }
}

}  // namespace comet::detail
