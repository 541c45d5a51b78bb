#include "gateway/redis/switch_master_watch.hpp"

#include <hiredis/hiredis.h>

#include "gateway/redis/reply.hpp"

namespace comet {

SwitchMasterWatch::Event SwitchMasterWatch::on_reply(const redisReply& r) const {
  using Type = Event::Type;
  if (r.type == REDIS_REPLY_ERROR) return Event{Type::lost, std::string(reply_text(r))};
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 3) return {};
  if (reply_text(*r.element[0]) != "message") return {};
  const std::string_view text = reply_text(*r.element[2]);
  if (text.substr(0, text.find(' ')) != master_name_) return {};
  return Event{Type::failover, std::string(text)};
}

}  // namespace comet
