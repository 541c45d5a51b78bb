#include "gateway/redis/presence_wire.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "gateway/redis/reply.hpp"

namespace comet {
namespace {

template <typename T>
bool number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool text_of(const redisReply* r, std::string_view& out) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) {
    return false;
  }
  out = reply_text(*r);
  return true;
}

}  // namespace

std::optional<PresenceEvent> parse_presence_event(std::string_view payload) {
  PresenceEvent e;
  const auto colon = payload.find(':');
  if (colon == std::string_view::npos || !number(payload.substr(0, colon), e.version)) {
    return std::nullopt;
  }
  payload.remove_prefix(colon + 1);
  if (payload.size() < 2 || payload[1] != ':') return std::nullopt;
  if (payload[0] == 'j') {
    e.kind = PresenceEvent::Kind::join;
  } else if (payload[0] == 'l') {
    e.kind = PresenceEvent::Kind::leave;
  } else {
    return std::nullopt;
  }
  payload.remove_prefix(2);
  const auto len_end = payload.find(':');
  std::size_t len = 0;
  if (len_end == std::string_view::npos || !number(payload.substr(0, len_end), len)) {
    return std::nullopt;
  }
  payload.remove_prefix(len_end + 1);
  if (len == 0 || len > payload.size()) return std::nullopt;
  e.user.assign(payload.substr(0, len));
  payload.remove_prefix(len);
  if (e.kind == PresenceEvent::Kind::leave && !payload.empty()) return std::nullopt;
  e.info.assign(payload);
  return e;
}

std::optional<PresenceOutcome> parse_presence_outcome(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements == 0 || reply.elements % 2 != 1 ||
      reply.element[0]->type != REDIS_REPLY_INTEGER) {
    return std::nullopt;
  }
  PresenceOutcome out;
  out.due_in = reply.element[0]->integer;
  for (std::size_t i = 1; i + 1 < reply.elements; i += 2) {
    std::string_view name, user;
    if (!text_of(reply.element[i], name) || !text_of(reply.element[i + 1], user)) {
      return std::nullopt;
    }
    out.changes.push_back({std::string(name), std::string(user)});
  }
  return out;
}

std::optional<PresenceSnapshot> parse_presence_members(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements % 2 != 1) return std::nullopt;
  PresenceSnapshot s;
  std::string_view version;
  if (!text_of(reply.element[0], version) || !number(version, s.version)) return std::nullopt;
  for (std::size_t i = 1; i + 1 < reply.elements; i += 2) {
    std::string_view user, info;
    if (!text_of(reply.element[i], user) || !text_of(reply.element[i + 1], info)) {
      return std::nullopt;
    }
    s.members.emplace(std::string(user), std::string(info));
  }
  return s;
}

}  // namespace comet
