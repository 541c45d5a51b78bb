#include "gateway/redis/sentinel_resolve.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <utility>

#include "gateway/redis/host_port.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {

using Type = SentinelResolve::Action::Type;

SentinelResolve::SentinelResolve(std::vector<RedisHostPort> sentinels, std::string master_name,
                                 std::vector<std::string> auth)
    : sentinels_(std::move(sentinels)),
      master_name_(std::move(master_name)),
      auth_(std::move(auth)) {}

SentinelResolve::Action SentinelResolve::start() {
  tried_ = 0;
  errors_.clear();
  return ask_next();
}

SentinelResolve::Action SentinelResolve::ask_next() {
  if (tried_ >= sentinels_.size()) {
    step_ = Step::idle;
    Action a;
    a.type = Type::failed;
    a.why = "no sentinel named master " + master_name_ + " (" + errors_ + ")";
    return a;
  }
  current_ = next_ % sentinels_.size();
  next_ = current_ + 1;
  ++tried_;
  step_ = Step::connecting;
  Action a;
  a.type = Type::connect;
  a.sentinel = sentinels_[current_];
  return a;
}

SentinelResolve::Action SentinelResolve::give_up(const std::string& why) {
  if (!errors_.empty()) errors_ += "; ";
  errors_ += "sentinel " + host_port(sentinels_[current_]) + ": " + why;
  return ask_next();
}

SentinelResolve::Action SentinelResolve::on_connected() {
  if (step_ != Step::connecting) return {};
  step_ = Step::asking;
  Action a;
  a.type = Type::send;
  a.auth = auth_;
  a.command = {"SENTINEL", "get-master-addr-by-name", master_name_};
  return a;
}

SentinelResolve::Action SentinelResolve::on_auth_reply(const redisReply& r) {
  if (step_ != Step::asking || r.type != REDIS_REPLY_ERROR) return {};
  return give_up("AUTH refused (" + std::string(reply_text(r)) + ")");
}

SentinelResolve::Action SentinelResolve::on_reply(const redisReply& r) {
  if (step_ != Step::asking) return {};
  if (r.type == REDIS_REPLY_ERROR) return give_up("refused (" + std::string(reply_text(r)) + ")");
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[0]->type != REDIS_REPLY_STRING ||
      r.element[1]->type != REDIS_REPLY_STRING) {
    return give_up("does not know the master");  // a nil reply: not monitored there
  }
  const std::string_view host = reply_text(*r.element[0]);
  const std::string_view port_text = reply_text(*r.element[1]);
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port <= 0 || port > 65535) {
    return give_up("a malformed address");
  }
  step_ = Step::idle;
  next_ = current_;  // it answered: ask it first next time
  Action a;
  a.type = Type::found;
  a.master = RedisHostPort{std::string(host), port};
  return a;
}

SentinelResolve::Action SentinelResolve::on_error(const std::string& why) {
  if (step_ == Step::idle) return {};
  return give_up(why);
}

}  // namespace comet
