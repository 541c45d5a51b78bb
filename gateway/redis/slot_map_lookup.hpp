// One CLUSTER SLOTS lookup, sans-IO: the candidate nodes (in the order
// SlotMapRefresh::candidates gives) are asked in turn, each on a
// short-lived connection, after AUTH when the nodes have credentials
// (pipelined). A node that cannot be reached, does not answer in time,
// refuses, or answers with an empty or malformed map is passed over; once
// every candidate has been tried the lookup fails with what each said.
//
// As with SentinelResolve, each connect or end action means the driver
// drops the connection before it, and a timeout is an event.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/redis/cluster_slots.hpp"
#include "gateway/redis/redis_url.hpp"

struct redisReply;

namespace comet {

class SlotMapLookup {
 public:
  struct Action {
    enum class Type {
      wait,     // nothing to do until the next event
      connect,  // drop the connection (if any) and connect to `node`
      send,     // send `auth` (when not empty), then `command`
      found,    // drop the connection; the map is `slots`
      failed,   // drop the connection; no node gave one: `why`
    };
    Type type = Type::wait;
    RedisHostPort node;
    std::vector<std::string> auth, command;
    std::optional<ClusterSlots> slots;
    std::string why;
  };

  // `auth`: auth_command() of the nodes' credentials.
  explicit SlotMapLookup(std::vector<std::string> auth) : auth_(std::move(auth)) {}

  // A new lookup over `candidates`.
  Action start(std::vector<RedisHostPort> candidates);
  Action on_connected();
  Action on_auth_reply(const redisReply& reply);
  Action on_reply(const redisReply& reply);
  // This node is of no use: connect failed, disconnected, no answer in
  // time, or the command could not be sent.
  Action on_error(const std::string& why);

 private:
  enum class Step { idle, connecting, asking };
  Action ask_next();
  Action give_up(const std::string& why);

  const std::vector<std::string> auth_;
  std::vector<RedisHostPort> candidates_;
  Step step_ = Step::idle;
  std::size_t tried_ = 0;
  std::string errors_;
};

}  // namespace comet
