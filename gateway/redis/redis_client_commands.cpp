// RedisClient's command link: see detail/redis_client_impl.hpp.
#include <hiredis/hiredis.h>

#include "gateway/redis/command_replies.hpp"
#include "gateway/redis/commands.hpp"
#include "gateway/redis/detail/redis_client_impl.hpp"
#include "gateway/redis/host_port.hpp"
#include "gateway/redis/keys.hpp"
#include "gateway/redis/presence_wire.hpp"
#include "gateway/redis/redis_library.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {

void RedisClient::Impl::connect_cmd() {
  cmd_ready_ = false;
  resolve(
      cmd_lookup_, [this](const RedisUrl& url) { connect_cmd_to(url); },
      [this](const std::string& why) { cmd_retry("command connection: " + why); });
}

void RedisClient::Impl::connect_cmd_to(const RedisUrl& url) {
  cmd_addr_ = url.unix_path.empty() ? host_port(url.host, url.port) : url.unix_path;
  detail::HiredisAsio::Events ev;
  ev.on_connected = [this] { cmd_handshake(); };
  ev.on_connect_failed = [this](const std::string& why) {
    cmd_retry("command connection to " + url_text_ + " (" + cmd_addr_ + ") failed (" + why + ")");
  };
  ev.on_disconnected = [this](const std::string& why) {
    cmd_retry("command connection lost (" + why + ")");
  };
  cmd_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev), log_);
  cmd_->connect(url, opt_.connect_timeout);
}

void RedisClient::Impl::cmd_handshake() {
  cmd_handshake_.emplace(handshake(opt_.url.db));
  run_handshake(
      *cmd_, *cmd_handshake_, cmd_handshake_->start(), [this] { cmd_up(); },
      [this](const std::string& why) { cmd_retry("command connection: " + why); });
}

void RedisClient::Impl::cmd_up() {
  cmd_ready_ = true;
  cmd_backoff_.reset();
  heartbeats_unanswered_ = 0;
  // Before any read: commands run in order, so reads sent from here on
  // find the functions (unless the load fails: Redis before 7). In a
  // cluster this node may be a replica; the functions are loaded on
  // every master by cluster_.
  if (!cluster_) load_library();
  send_heartbeat();
  if (cb_.on_command_ready) cb_.on_command_ready();
}

void RedisClient::Impl::load_library() {
  if (!cmd_ready_) return;
  for (const auto library : kRedisLibraries) {
    cmd_->command(function_load_command(library), [this](const redisReply& r) {
      if (r.type != REDIS_REPLY_ERROR) {
        log_line(LogLevel::info, "loaded the " + std::string(reply_text(r)) + " functions");
      } else if (!library_already_loaded(reply_text(r))) {
        log_line(LogLevel::error, "cannot load functions (" + std::string(reply_text(r)) +
                                      "): durable and presence channels need Redis 7; durable "
                                      "channels' gaps are reported");
      }
    });
  }
}

template <typename Result>
bool RedisClient::Impl::presence_call(std::string_view function, std::string_view channel,
                                      std::vector<std::string> args,
                                      std::optional<Result> (*parse)(const redisReply&),
                                      std::function<void(std::optional<Result>)> done) {
  const auto keys = presence_keys(opt_.prefix, channel);
  const bool writes = function != "comet_presence_members_v1";
  std::vector<std::string> cmd{writes ? "FCALL" : "FCALL_RO", std::string(function), "4"};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  // The writing functions publish their joins and leaves on the channel's
  // event channel.
  if (writes) {
    cmd.push_back(opt_.prefix + std::string(SubscriptionDemux::kPresence) + std::string(channel));
  }
  for (auto& a : args) cmd.push_back(std::move(a));
  return send_command(
      keys[0], std::move(cmd), [this, parse, done = std::move(done)](const redisReply* r) mutable {
        std::optional<Result> result;
        if (r != nullptr) result = parse(*r);
        if (!result && r != nullptr && r->type == REDIS_REPLY_ERROR) {
          if (!cluster_ && function_missing(reply_text(*r))) load_library();
          if (presence_failures_++ % 100 == 0) {
            log_line(LogLevel::warn,
                     "presence call failed (" + std::string(reply_text(*r)) + "; 1 in 100 logged)");
          }
        }
        boost::asio::post(io_, [life = life_.watch(), done = std::move(done),
                                result = std::move(result)]() mutable {
          if (life.alive()) done(std::move(result));
        });
      });
}

template bool RedisClient::Impl::presence_call<PresenceOutcome>(
    std::string_view, std::string_view, std::vector<std::string>,
    std::optional<PresenceOutcome> (*)(const redisReply&),
    std::function<void(std::optional<PresenceOutcome>)>);
template bool RedisClient::Impl::presence_call<PresenceSnapshot>(
    std::string_view, std::string_view, std::vector<std::string>,
    std::optional<PresenceSnapshot> (*)(const redisReply&),
    std::function<void(std::optional<PresenceSnapshot>)>);

bool RedisClient::Impl::read_stream(std::string_view channel, StreamId after, std::size_t count,
                                    std::function<void(std::optional<StreamRead>)> done) {
  const std::string key = stream_key(opt_.prefix, channel);
  const std::string from = after.text();
  const std::string n = std::to_string(count);
  bool sent =
      send_command(key, {"FCALL_RO", "comet_read_v1", "1", key, from, n},
                   [this, after, count, done = std::move(done)](const redisReply* r) mutable {
                     std::optional<StreamRead> result;
                     if (r != nullptr) result = parse_stream_read(*r, after, count);
                     if (!result) {
                       note_read_failure(r);
                       // A Redis that restarted without persistence lost the functions
                       // (in a cluster, ClusterCommands loads them again itself).
                       if (!cluster_ && r != nullptr && r->type == REDIS_REPLY_ERROR &&
                           function_missing(reply_text(*r))) {
                         load_library();
                       }
                     }
                     finish_read(std::move(done), std::move(result));
                   });
  if (sent) ++reads_total_;
  return sent;
}

bool RedisClient::Impl::publish(std::string_view channel, std::string_view payload, bool durable,
                                std::function<void(PublishResult)> done) {
  const std::string key = opt_.prefix + std::string(channel);
  std::vector<std::string> args;
  std::string route;  // the key that picks a cluster node (none: any node)
  if (durable) {
    route = stream_key(opt_.prefix, channel);
    args = {"FCALL",
            "comet_publish_v1",
            "1",
            route,
            key,
            opt_.prefix + std::string(kDurableNotice) + std::string(channel),
            std::string(payload),
            std::to_string(opt_.stream_max_len),
            std::to_string(opt_.stream_ttl_seconds)};
  } else {
    args = {"PUBLISH", key, std::string(payload)};
  }
  return send_command(route, std::move(args),
                      [this, durable, done = std::move(done)](const redisReply* r) {
                        PublishResult result = parse_publish(r, durable);
                        if (!cluster_ && r != nullptr && r->type == REDIS_REPLY_ERROR &&
                            function_missing(result.error)) {
                          load_library();
                        }
                        boost::asio::post(io_, [life = life_.watch(), done = std::move(done),
                                                result = std::move(result)]() mutable {
                          if (life.alive()) done(std::move(result));
                        });
                      });
}

bool RedisClient::Impl::send_command(std::string_view route, std::vector<std::string> args,
                                     std::function<void(const redisReply*)> on_reply) {
  if (!cmd_ready_ || !cmd_) return false;
  if (cluster_ && !route.empty()) {
    cluster_->send(route, std::move(args), std::move(on_reply));
    return true;
  }
  const std::uint64_t id = commands_.add(std::move(on_reply), Clock::now() + opt_.read_timeout);
  bool sent = cmd_->command(args, [this, id](const redisReply& r) { on_command_reply(id, r); });
  if (!sent) {
    commands_.take(id);  // never sent: its `on_reply` must not run
    return false;
  }
  if (commands_.size() == 1) arm_command_timer();
  return true;
}

void RedisClient::Impl::on_command_reply(std::uint64_t id, const redisReply& r) {
  auto on_reply = commands_.take(id);
  if (!on_reply) return;
  (*on_reply)(&r);
  arm_command_timer();
}

void RedisClient::Impl::note_read_failure(const redisReply* r) {
  if (read_failures_++ % 100 != 0) return;
  std::string why = r == nullptr                   ? "no answer"
                    : r->type == REDIS_REPLY_ERROR ? std::string(reply_text(*r))
                                                   : "unexpected reply";
  log_line(LogLevel::warn, "stream read failed (" + why + "; 1 in 100 logged)");
}

void RedisClient::Impl::finish_read(std::function<void(std::optional<StreamRead>)> done,
                                    std::optional<StreamRead> result) {
  boost::asio::post(
      io_, [life = life_.watch(), done = std::move(done), result = std::move(result)]() mutable {
        if (life.alive()) done(std::move(result));
      });
}

void RedisClient::Impl::fail_commands() {
  auto pending = commands_.take_all();
  cancel(command_timer_);
  for (auto& on_reply : pending) on_reply(nullptr);
}

void RedisClient::Impl::arm_command_timer() {
  const auto deadline = commands_.next_deadline();
  if (!deadline) {
    cancel(command_timer_);
    return;
  }
  auto due = *deadline - Clock::now();
  arm(command_timer_, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(due)), [this] {
    if (commands_.empty()) return;
    if (!commands_.timed_out(Clock::now())) {
      arm_command_timer();
      return;
    }
    cmd_retry("a command went unanswered for " + std::to_string(opt_.read_timeout.count()) + " ms");
  });
}

void RedisClient::Impl::send_heartbeat() {
  if (!cmd_ready_) return;
  // The command connection can go half-open too; its heartbeats going
  // unanswered is how that shows.
  if (heartbeats_unanswered_ >= Liveness::kSilentIntervals) {
    cmd_retry("command connection silent: " + std::to_string(heartbeats_unanswered_) +
              " heartbeats unanswered");
    return;
  }
  ++heartbeats_unanswered_;
  // Each heartbeat is a mark of the stream too, while subscribed.
  const std::string payload = state_ == State::up ? demux_.mark_payload(rng_()) : std::string();
  bool sent = cmd_->command({"PUBLISH", heartbeat_channel_, payload}, [this](const redisReply& r) {
    heartbeats_unanswered_ = 0;
    if (r.type == REDIS_REPLY_ERROR && !cmd_publish_refused_logged_) {
      cmd_publish_refused_logged_ = true;
      log_line(LogLevel::error, "heartbeat PUBLISH refused (" + std::string(reply_text(r)) +
                                    "); the subscription will be taken for dead");
    }
  });
  if (!sent) {
    cmd_retry("command connection: cannot send PUBLISH");
    return;
  }
  arm(heartbeat_, opt_.heartbeat_interval, [this] { send_heartbeat(); });
}

void RedisClient::Impl::cmd_retry(const std::string& why) {
  cmd_.reset();
  stop_lookup(cmd_lookup_);
  cmd_ready_ = false;
  cancel(heartbeat_);
  fail_commands();
  finish_syncs(false);
  milliseconds delay = cmd_backoff_.next();
  log_line(LogLevel::warn, why + "; reconnecting in " + std::to_string(delay.count()) + " ms");
  arm(cmd_retry_, delay, [this] { connect_cmd(); });
}

}  // namespace comet
