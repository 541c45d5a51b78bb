#include "gateway/redis/link_handshake.hpp"

#include <hiredis/hiredis.h>

#include <string_view>
#include <utility>

#include "gateway/redis/reply.hpp"

namespace comet {

namespace {

// The "run_id:<40 hex>" line of INFO server; empty when there is none.
std::string run_id_of(std::string_view info) {
  constexpr std::string_view key = "run_id:";
  std::size_t at = 0;
  while (at < info.size()) {
    std::size_t end = info.find('\n', at);
    if (end == std::string_view::npos) end = info.size();
    std::string_view line = info.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with(key)) {
      line.remove_prefix(key.size());
      if (line.empty() || line.size() > 64) return {};
      for (char ch : line) {
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return {};
      }
      return std::string(line);
    }
    at = end + 1;
  }
  return {};
}

}  // namespace

LinkHandshake::Action LinkHandshake::start() {
  return advance_from(Step::idle);
}

// The first step after `step` that applies.
LinkHandshake::Action LinkHandshake::advance_from(Step step) {
  switch (step) {
    case Step::idle:
      if (!opt_.auth.empty()) return send(Step::auth, opt_.auth);
      [[fallthrough]];
    case Step::auth:
      if (opt_.require_master) return send(Step::role, {"ROLE"});
      [[fallthrough]];
    case Step::role:
      if (opt_.db != 0) return send(Step::select, {"SELECT", std::to_string(opt_.db)});
      [[fallthrough]];
    case Step::select:
      if (opt_.identify) return send(Step::info, {"INFO", "server"});
      [[fallthrough]];
    case Step::info:
      step_ = Step::ready;
      return Action{Action::Type::ready, {}, {}};
    case Step::ready:
    case Step::failed:
      break;
  }
  return fail("handshake resumed after its end");
}

LinkHandshake::Action LinkHandshake::on_reply(const redisReply& r) {
  const std::string text(reply_text(r));
  switch (step_) {
    case Step::auth:
      if (r.type == REDIS_REPLY_ERROR) return fail("AUTH refused (" + text + ")");
      return advance_from(Step::auth);
    case Step::role: {
      const bool named = r.type == REDIS_REPLY_ARRAY && r.elements >= 1;
      const std::string role = named ? std::string(reply_text(*r.element[0])) : "?";
      if (named && role == "master") return advance_from(Step::role);
      if (r.type == REDIS_REPLY_ERROR) return fail("ROLE refused (" + text + ")");
      return fail("the server named by the sentinels is not a master (ROLE: " + role + ")");
    }
    case Step::select:
      if (r.type == REDIS_REPLY_ERROR) return fail("SELECT refused (" + text + ")");
      return advance_from(Step::select);
    case Step::info:
      // A refusal (a renamed command, an ACL without +info) leaves the
      // server unnamed; nothing else depends on it.
      if (r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS) {
        server_id_ = run_id_of(text);
      }
      return advance_from(Step::info);
    case Step::idle:
    case Step::ready:
    case Step::failed:
      break;
  }
  return fail("a reply nothing was asked for");
}

LinkHandshake::Action LinkHandshake::on_send_failed() {
  switch (step_) {
    case Step::auth:
      return fail("cannot send AUTH");
    case Step::role:
      return fail("cannot send ROLE");
    case Step::select:
      return fail("cannot send SELECT");
    case Step::info:
      return fail("cannot send INFO");
    default:
      return fail("cannot send");
  }
}

LinkHandshake::Action LinkHandshake::send(Step step, std::vector<std::string> command) {
  step_ = step;
  return Action{Action::Type::send, std::move(command), {}};
}

LinkHandshake::Action LinkHandshake::fail(std::string why) {
  step_ = Step::failed;
  return Action{Action::Type::failed, {}, std::move(why)};
}

}  // namespace comet
