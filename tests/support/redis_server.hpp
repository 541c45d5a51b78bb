// A private redis-server for one test, on a free loopback port, with no
// persistence; it can be killed with SIGKILL and started again on the same
// port (to test the gateway's reconnects). Plus a tiny RESP client for
// checks that must not go through the gateway or PHP.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace comet::test {

struct RedisServerOptions {
  // Appended to the command line (e.g. RedisServer::persistent()).
  std::vector<std::string> extra_args;
  std::string password;   // --requirepass
  std::string unix_path;  // listen on this Unix socket only (no TCP)
};

class RedisServer {
 public:
  // Starts redis-server and waits until it answers (PING, or the socket
  // accepting when it listens on a Unix socket only). `extra_args` are
  // appended to the command line (e.g. persistent() for durable channels).
  explicit RedisServer(std::string dir, int port = 0, std::vector<std::string> extra_args = {});
  RedisServer(std::string dir, int port, RedisServerOptions options);
  // What a durable deployment runs with (deploy/redis/README.md): every
  // write in the append-only file before it is acknowledged, so kill -9
  // loses nothing that a publisher was told was published.
  static std::vector<std::string> persistent() {
    return {"--appendonly", "yes", "--appendfsync", "always"};
  }
  ~RedisServer();

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  bool running() const { return process_ && process_->running(); }
  Process& process() { return *process_; }

  // SIGKILL, then wait for the exit (bounded).
  void kill9();
  // Starts a new redis-server on the same port (after kill9 or stop).
  void restart();
  void stop();

 private:
  void start();

  std::string dir_;
  int port_;
  RedisServerOptions options_;
  std::unique_ptr<Process> process_;
};

// RESP value: simple string / error / integer / bulk string (nil = null) /
// array.
struct RespValue {
  enum class Type { simple, error, integer, bulk, null, array } type = Type::null;
  std::string str;
  long long integer = 0;
  std::vector<RespValue> elements;
};

class RespClient {
 public:
  explicit RespClient(int port);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  void send(const std::vector<std::string>& args);
  // nullopt on timeout.
  std::optional<RespValue> read(std::chrono::milliseconds timeout);
  // send + read (throws on timeout).
  RespValue command(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::optional<RespValue> parse(std::size_t& pos);
  int fd_ = -1;
  std::string in_;
};

// PUBSUB NUMPAT of the server on `port` (patterns subscribed there, e.g. 1
// once a gateway's PSUBSCRIBE comet:* is on it); -1 when it cannot say.
long long pubsub_numpat(int port);

}  // namespace comet::test
