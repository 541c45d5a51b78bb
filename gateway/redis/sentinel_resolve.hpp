// Where is the master? Sans-IO: the sentinels are asked in turn, each on a
// short-lived connection, `SENTINEL get-master-addr-by-name <name>` (after
// AUTH when the sentinels have a password, pipelined). A sentinel that
// cannot be reached, does not answer in time, refuses, or does not know
// the master is passed over for the next; once every sentinel has been
// tried the round fails with what each said. The sentinel that answered
// is asked first in the next round.
//
// The driver connects, sends and reports what happened; a timeout is an
// event (on_error("no answer in time")). Each connect or end action means
// the connection before it is dropped first, so no event of an earlier
// sentinel is ever fed in.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gateway/redis/redis_url.hpp"

struct redisReply;

namespace comet {

class SentinelResolve {
 public:
  struct Action {
    enum class Type {
      wait,     // nothing to do until the next event
      connect,  // drop the connection (if any) and connect to `sentinel`
      send,     // send `auth` (when not empty), then `command`
      found,    // drop the connection; the master is at `master`
      failed,   // drop the connection; no sentinel named it: `why`
    };
    Type type = Type::wait;
    RedisHostPort sentinel;
    std::vector<std::string> auth, command;
    RedisHostPort master;
    std::string why;
  };

  // `auth`: auth_command() of the sentinels' own credentials.
  SentinelResolve(std::vector<RedisHostPort> sentinels, std::string master_name,
                  std::vector<std::string> auth);

  // A new round.
  Action start();
  // The connection to the sentinel of the last connect action is up.
  Action on_connected();
  // The reply to the AUTH of the last send action.
  Action on_auth_reply(const redisReply& reply);
  // The reply to its SENTINEL command.
  Action on_reply(const redisReply& reply);
  // This sentinel is of no use: its connect failed, it disconnected, it
  // did not answer in time, or the command could not be sent.
  Action on_error(const std::string& why);

  const std::string& master_name() const { return master_name_; }

 private:
  enum class Step { idle, connecting, asking };
  Action ask_next();
  Action give_up(const std::string& why);

  const std::vector<RedisHostPort> sentinels_;
  const std::string master_name_;
  const std::vector<std::string> auth_;
  Step step_ = Step::idle;
  std::size_t next_ = 0;     // the sentinel to ask first
  std::size_t current_ = 0;  // the one being asked
  std::size_t tried_ = 0;    // in this round
  std::string errors_;
};

}  // namespace comet
