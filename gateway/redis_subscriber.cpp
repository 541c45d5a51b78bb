#include "gateway/redis_subscriber.hpp"

#include "gateway/log.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <ctime>
#include <random>

#include "gateway/clock.hpp"
#include "gateway/detail/hiredis_asio.hpp"

namespace comet {
namespace {

using std::chrono::milliseconds;

// Internal channels live under "<prefix>#...": '#' is not allowed in a user
// channel name (API.md), so these can never collide with one.
constexpr std::string_view kHeartbeatSuffix = "#heartbeat";
constexpr int kSilentHeartbeats = 3;  // intervals of silence before a reconnect

void log_line(const char* level, std::string_view text) {
  log(parse_log_level(level), "redis", text);
}

std::string_view reply_text(const redisReply& r) {
  return r.str != nullptr ? std::string_view(r.str, r.len) : std::string_view();
}

// Exponential backoff with full jitter: the n-th wait is uniform in
// [0, min(max, min * 2^n)], so gateways that lost Redis together do not
// come back together.
class Backoff {
 public:
  Backoff(milliseconds min, milliseconds max) : min_(std::max(min, milliseconds(1))), max_(max) {}
  milliseconds next(std::mt19937_64& rng) {
    milliseconds ceiling = min_;
    for (int i = 0; i < attempt_ && ceiling < max_; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, std::max(max_, min_));
    if (attempt_ < 62) ++attempt_;
    std::uniform_int_distribution<milliseconds::rep> pick(0, ceiling.count());
    return milliseconds(pick(rng));
  }
  void reset() { attempt_ = 0; }

 private:
  milliseconds min_, max_;
  int attempt_ = 0;
};

}  // namespace

struct RedisSubscriber::Impl {
  // A timer whose stale completions are ignored: a handler that was already
  // queued when the timer was re-armed or cancelled sees another generation.
  struct Timer {
    explicit Timer(boost::asio::io_context& io) : t(io) {}
    boost::asio::steady_timer t;
    std::uint64_t gen = 0;
  };

  enum class State { idle, connecting, handshaking, up, waiting };

  Impl(boost::asio::io_context& io, RedisSubscriberOptions options,
       RedisSubscriberCallbacks callbacks)
      : io_(io),
        opt_(std::move(options)),
        cb_(std::move(callbacks)),
        url_text_(opt_.url.redacted()),
        pattern_(opt_.prefix + "*"),
        heartbeat_channel_(opt_.prefix + std::string(kHeartbeatSuffix)),
        rng_(std::random_device{}()),
        sub_backoff_(opt_.backoff_min, opt_.backoff_max),
        sub_retry_(io),
        watchdog_(io),
        cmd_backoff_(opt_.backoff_min, opt_.backoff_max),
        cmd_retry_(io),
        heartbeat_(io) {
    if (opt_.heartbeat_interval <= milliseconds(0)) opt_.heartbeat_interval = milliseconds(1000);
  }

  ~Impl() { halt(); }

  boost::asio::io_context& io_;
  RedisSubscriberOptions opt_;
  RedisSubscriberCallbacks cb_;
  const std::string url_text_;  // redacted: the only form that is logged
  const std::string pattern_;
  const std::string heartbeat_channel_;
  // Timer handlers hold a weak_ptr to this: they may be queued after the
  // Impl is gone (a cancel cannot recall a completion already queued).
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
  std::mt19937_64 rng_;
  bool running_ = false;

  // The subscription.
  std::unique_ptr<detail::HiredisAsio> sub_;
  State state_ = State::idle;
  Backoff sub_backoff_;
  Timer sub_retry_, watchdog_;
  Clock::time_point last_heard_{};
  Clock::time_point down_since_{};
  bool ever_up_ = false;
  std::uint64_t reconnects_ = 0;
  std::size_t burst_ = 0;  // messages delivered in the current read burst

  // The command connection (heartbeat publisher).
  std::unique_ptr<detail::HiredisAsio> cmd_;
  bool cmd_ready_ = false;
  bool cmd_publish_refused_logged_ = false;
  int heartbeats_unanswered_ = 0;
  Backoff cmd_backoff_;
  Timer cmd_retry_, heartbeat_;

  template <class F>
  void arm(Timer& timer, milliseconds after, F f) {
    std::uint64_t gen = ++timer.gen;
    timer.t.expires_after(after);
    timer.t.async_wait([this, &timer, gen, life = std::weak_ptr<int>(life_),
                        f = std::move(f)](const boost::system::error_code& ec) mutable {
      if (ec || life.expired() || timer.gen != gen) return;
      f();
    });
  }
  static void cancel(Timer& timer) {
    ++timer.gen;
    timer.t.cancel();
  }

  bool needs_auth() const { return !opt_.url.username.empty() || !opt_.url.password.empty(); }

  // AUTH with the ACL user when one is given (Redis 6+), else the legacy form.
  bool send_auth(detail::HiredisAsio& conn, detail::HiredisAsio::ReplyHandler done) {
    if (!opt_.url.username.empty()) {
      return conn.command({"AUTH", opt_.url.username, opt_.url.password}, std::move(done));
    }
    return conn.command({"AUTH", opt_.url.password}, std::move(done));
  }

  void start() {
    if (running_) return;
    running_ = true;
    connect_sub();
    connect_cmd();
  }

  // Tears everything down without a word to the owner.
  void halt() {
    running_ = false;
    cancel(sub_retry_);
    cancel(watchdog_);
    cancel(cmd_retry_);
    cancel(heartbeat_);
    sub_.reset();  // frees the context: its handlers and events are dropped
    cmd_.reset();
    cmd_ready_ = false;
    state_ = State::idle;
    burst_ = 0;
  }

  void stop() {
    bool was_running = running_;
    halt();
    if (was_running) log_line("info", "stopped");
  }

  // ---- subscription ----------------------------------------------------

  void connect_sub() {
    state_ = State::connecting;
    detail::HiredisAsio::Events ev;
    ev.on_connected = [this] { sub_handshake(); };
    ev.on_connect_failed = [this](const std::string& why) {
      sub_retry("connect to " + url_text_ + " failed (" + why + ")");
    };
    ev.on_disconnected = [this](const std::string& why) { sub_retry(why); };
    ev.on_read_done = [this] { sub_read_done(); };
    sub_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev));
    sub_->connect(opt_.url, opt_.connect_timeout);
  }

  void sub_handshake() {
    state_ = State::handshaking;
    // The watchdog covers the handshake too: a server that accepts the TCP
    // connection but never answers is as dead as a silent subscription.
    last_heard_ = Clock::now();
    arm_watchdog();
    // No SELECT here: pub/sub channels are shared by all databases, so the
    // db of the URL does not matter to the subscription.
    if (needs_auth()) {
      bool sent = send_auth(*sub_, [this](const redisReply& r) {
        if (r.type == REDIS_REPLY_ERROR) {
          sub_retry("AUTH refused (" + std::string(reply_text(r)) + ")");
        } else {
          send_psubscribe();
        }
      });
      if (!sent) sub_retry("cannot send AUTH");
    } else {
      send_psubscribe();
    }
  }

  void send_psubscribe() {
    bool sent =
        sub_->command({"PSUBSCRIBE", pattern_}, [this](const redisReply& r) { on_sub_reply(r); });
    if (!sent) sub_retry("cannot send PSUBSCRIBE");
  }

  void on_sub_reply(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) {  // e.g. an ACL without &<pattern> rights
      sub_retry("PSUBSCRIBE refused (" + std::string(reply_text(r)) + ")");
      return;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return;
    std::string_view kind = reply_text(*r.element[0]);
    if (kind == "pmessage" && r.elements >= 4) {
      std::string_view channel = reply_text(*r.element[2]);
      if (!channel.starts_with(opt_.prefix)) return;  // cannot match the pattern; be safe
      channel.remove_prefix(opt_.prefix.size());
      // Heartbeats (and any internal "#..." channel) only prove liveness,
      // which sub_read_done has already noted.
      if (!channel.empty() && channel.front() == '#') return;
      ++burst_;
      if (cb_.on_message) cb_.on_message(channel, reply_text(*r.element[3]));
    } else if (kind == "psubscribe") {
      on_subscribed();
    }
  }

  void on_subscribed() {
    bool resumed = ever_up_;
    state_ = State::up;
    ever_up_ = true;
    sub_backoff_.reset();
    if (resumed) {
      ++reconnects_;
      auto down = std::chrono::duration_cast<milliseconds>(Clock::now() - down_since_);
      log_line("info", "subscription to " + pattern_ + " on " + url_text_ + " resumed after " +
                           std::to_string(down.count()) + " ms down");
    } else {
      log_line("info", "subscribed to " + pattern_ + " on " + url_text_);
    }
    if (cb_.on_subscribed) cb_.on_subscribed(resumed);
  }

  // Any bytes read count as liveness, even a part of a large message.
  void sub_read_done() {
    last_heard_ = Clock::now();
    if (burst_ == 0) return;
    burst_ = 0;
    if (cb_.on_burst_end) cb_.on_burst_end();
  }

  // Rather than re-arming a timer per message, the timer fires at the
  // earliest moment the silence could be long enough and checks.
  void arm_watchdog() {
    auto limit = opt_.heartbeat_interval * kSilentHeartbeats;
    auto due = last_heard_ + limit - Clock::now();
    arm(watchdog_, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(due)), [this, limit] {
      auto silent = Clock::now() - last_heard_;
      if (silent < limit) {
        arm_watchdog();
        return;
      }
      sub_retry("nothing heard for " +
                std::to_string(std::chrono::duration_cast<milliseconds>(silent).count()) +
                " ms, not even a heartbeat");
    });
  }

  // The subscription (or the attempt at one) is over: drop it and schedule
  // the next attempt. Safe from any of the connection's own handlers.
  void sub_retry(const std::string& why) {
    bool was_up = state_ == State::up;
    sub_.reset();
    cancel(watchdog_);
    burst_ = 0;
    state_ = State::waiting;
    milliseconds delay = sub_backoff_.next(rng_);
    std::string in = "; reconnecting in " + std::to_string(delay.count()) + " ms";
    if (was_up) {
      down_since_ = Clock::now();
      log_line("warn", "subscription lost (" + why + ")" + in);
    } else {
      log_line("warn", why + in);
    }
    arm(sub_retry_, delay, [this] { connect_sub(); });
    // Last: the owner may call stop() from here.
    if (was_up && cb_.on_down) cb_.on_down();
  }

  // ---- commands and heartbeat --------------------------------------------

  void connect_cmd() {
    cmd_ready_ = false;
    detail::HiredisAsio::Events ev;
    ev.on_connected = [this] { cmd_handshake(); };
    ev.on_connect_failed = [this](const std::string& why) {
      cmd_retry("command connection to " + url_text_ + " failed (" + why + ")");
    };
    ev.on_disconnected = [this](const std::string& why) {
      cmd_retry("command connection lost (" + why + ")");
    };
    cmd_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev));
    cmd_->connect(opt_.url, opt_.connect_timeout);
  }

  void cmd_handshake() {
    if (needs_auth()) {
      bool sent = send_auth(*cmd_, [this](const redisReply& r) {
        if (r.type == REDIS_REPLY_ERROR) {
          cmd_retry("command connection: AUTH refused (" + std::string(reply_text(r)) + ")");
        } else {
          cmd_select();
        }
      });
      if (!sent) cmd_retry("command connection: cannot send AUTH");
    } else {
      cmd_select();
    }
  }

  // The command connection does select the db: durable reads will use it.
  void cmd_select() {
    if (opt_.url.db == 0) {
      cmd_up();
      return;
    }
    std::string db = std::to_string(opt_.url.db);
    bool sent = cmd_->command({"SELECT", db}, [this](const redisReply& r) {
      if (r.type == REDIS_REPLY_ERROR) {
        cmd_retry("command connection: SELECT refused (" + std::string(reply_text(r)) + ")");
      } else {
        cmd_up();
      }
    });
    if (!sent) cmd_retry("command connection: cannot send SELECT");
  }

  void cmd_up() {
    cmd_ready_ = true;
    cmd_backoff_.reset();
    heartbeats_unanswered_ = 0;
    send_heartbeat();
  }

  void send_heartbeat() {
    if (!cmd_ready_) return;
    // The command connection can go half-open too; its heartbeats going
    // unanswered is how that shows.
    if (heartbeats_unanswered_ >= kSilentHeartbeats) {
      cmd_retry("command connection silent: " + std::to_string(heartbeats_unanswered_) +
                " heartbeats unanswered");
      return;
    }
    ++heartbeats_unanswered_;
    bool sent = cmd_->command({"PUBLISH", heartbeat_channel_, ""}, [this](const redisReply& r) {
      heartbeats_unanswered_ = 0;
      if (r.type == REDIS_REPLY_ERROR && !cmd_publish_refused_logged_) {
        cmd_publish_refused_logged_ = true;
        log_line("error", "heartbeat PUBLISH refused (" + std::string(reply_text(r)) +
                              "); the subscription will be taken for dead");
      }
    });
    if (!sent) {
      cmd_retry("command connection: cannot send PUBLISH");
      return;
    }
    arm(heartbeat_, opt_.heartbeat_interval, [this] { send_heartbeat(); });
  }

  void cmd_retry(const std::string& why) {
    cmd_.reset();
    cmd_ready_ = false;
    cancel(heartbeat_);
    milliseconds delay = cmd_backoff_.next(rng_);
    log_line("warn", why + "; reconnecting in " + std::to_string(delay.count()) + " ms");
    arm(cmd_retry_, delay, [this] { connect_cmd(); });
  }
};

RedisSubscriber::RedisSubscriber(boost::asio::io_context& io, RedisSubscriberOptions options,
                                 RedisSubscriberCallbacks callbacks)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(callbacks))) {}

RedisSubscriber::~RedisSubscriber() = default;

void RedisSubscriber::start() {
  impl_->start();
}
void RedisSubscriber::stop() {
  impl_->stop();
}
bool RedisSubscriber::up() const {
  return impl_->state_ == Impl::State::up;
}
std::uint64_t RedisSubscriber::reconnects() const {
  return impl_->reconnects_;
}

}  // namespace comet
