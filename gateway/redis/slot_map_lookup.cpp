#include "gateway/redis/slot_map_lookup.hpp"

#include <hiredis/hiredis.h>

#include <utility>

#include "gateway/redis/host_port.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {

using Type = SlotMapLookup::Action::Type;

SlotMapLookup::Action SlotMapLookup::start(std::vector<RedisHostPort> candidates) {
  candidates_ = std::move(candidates);
  tried_ = 0;
  errors_.clear();
  return ask_next();
}

SlotMapLookup::Action SlotMapLookup::ask_next() {
  Action a;
  if (tried_ >= candidates_.size()) {
    step_ = Step::idle;
    a.type = Type::failed;
    a.why = errors_;
    return a;
  }
  step_ = Step::connecting;
  a.type = Type::connect;
  a.node = candidates_[tried_++];
  return a;
}

SlotMapLookup::Action SlotMapLookup::give_up(const std::string& why) {
  if (!errors_.empty()) errors_ += "; ";
  errors_ += host_port(candidates_[tried_ - 1]) + ": " + why;
  return ask_next();
}

SlotMapLookup::Action SlotMapLookup::on_connected() {
  if (step_ != Step::connecting) return {};
  step_ = Step::asking;
  Action a;
  a.type = Type::send;
  a.auth = auth_;
  a.command = {"CLUSTER", "SLOTS"};
  return a;
}

SlotMapLookup::Action SlotMapLookup::on_auth_reply(const redisReply& r) {
  if (step_ != Step::asking || r.type != REDIS_REPLY_ERROR) return {};
  return give_up("AUTH refused (" + std::string(reply_text(r)) + ")");
}

SlotMapLookup::Action SlotMapLookup::on_reply(const redisReply& r) {
  if (step_ != Step::asking) return {};
  // A master announced with an empty address is the node asked.
  auto slots = ClusterSlots::from_reply(r, candidates_[tried_ - 1].host);
  if (!slots || slots->masters().empty()) {
    return give_up(r.type == REDIS_REPLY_ERROR
                       ? "CLUSTER SLOTS refused (" + std::string(reply_text(r)) + ")"
                       : "an empty or malformed slot map");
  }
  step_ = Step::idle;
  Action a;
  a.type = Type::found;
  a.slots = std::move(slots);
  return a;
}

SlotMapLookup::Action SlotMapLookup::on_error(const std::string& why) {
  if (step_ == Step::idle) return {};
  return give_up(why);
}

}  // namespace comet
