// The +switch-master subscription on a sentinel, sans-IO: a master demoted
// by a failover may keep its clients, so the announcement is what moves
// both connections. Fed every reply to SUBSCRIBE +switch-master.
#pragma once

#include <string>
#include <string_view>
#include <utility>

struct redisReply;

namespace comet {

class SwitchMasterWatch {
 public:
  struct Event {
    enum class Type {
      none,      // the confirmation, or another master's failover
      lost,      // an error reply: watch on another sentinel
      failover,  // our master moved: reconnect; `text` is the announcement
    };
    Type type = Type::none;
    std::string text;
  };

  explicit SwitchMasterWatch(std::string master_name) : master_name_(std::move(master_name)) {}

  // "message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"
  Event on_reply(const redisReply& reply) const;

 private:
  std::string master_name_;
};

}  // namespace comet
