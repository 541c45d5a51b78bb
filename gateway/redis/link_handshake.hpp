// The handshake of one connection to a Redis server, sans-IO: once
// connected, AUTH (when there are credentials), ROLE (when the address came
// from the sentinels, which may hand us a demoted master or have stale
// news: the server must say "master"), SELECT (when the link uses a db:
// pub/sub channels are shared by all databases, so the subscription does
// not), INFO server (when asked to identify the server: its run_id tells
// whether two gateways hear one pub/sub stream), then ready. Fed the reply to each command it asked
// for; every failure ends it with the text of a log line, and the driver drops the connection and
// retries with backoff (asking the sentinels afresh).
#pragma once

#include <string>
#include <utility>
#include <vector>

struct redisReply;

namespace comet {

class LinkHandshake {
 public:
  struct Options {
    std::vector<std::string> auth;  // auth_command(); empty: no AUTH
    bool require_master = false;    // ROLE must be master
    int db = 0;                     // SELECT unless 0
    bool identify = false;          // INFO server, for server_id()
  };

  struct Action {
    enum class Type { send, ready, failed };
    Type type = Type::failed;
    std::vector<std::string> command;  // for send
    std::string why;                   // for failed: the log line's text
  };

  explicit LinkHandshake(Options options) : opt_(std::move(options)) {}
  void identify() { opt_.identify = true; }

  // The connection is up: the first step.
  Action start();
  // The reply to the command of the last send action.
  Action on_reply(const redisReply& reply);
  // That command could not even be sent.
  Action on_send_failed();

  bool done() const { return step_ == Step::ready || step_ == Step::failed; }
  // The server's run_id (with `identify`; empty when INFO was refused, or
  // did not name one: the link works, it is only not identified).
  const std::string& server_id() const { return server_id_; }

 private:
  enum class Step { idle, auth, role, select, info, ready, failed };
  Action advance_from(Step step);
  Action send(Step step, std::vector<std::string> command);
  Action fail(std::string why);

  Options opt_;
  Step step_ = Step::idle;
  std::string server_id_;
};

}  // namespace comet
