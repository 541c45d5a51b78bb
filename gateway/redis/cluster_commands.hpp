// Redis Cluster, as far as the gateway needs it.
//
// Pub/sub needs nothing of this: a plain PUBLISH sent to any node of a
// cluster reaches the subscribers of every node, so the subscription and
// the heartbeat use one node each, whichever answers. Keys are another
// matter: a durable channel's stream lives on the master that serves its
// key's hash slot, and a read sent elsewhere is answered with a redirect.
// cluster_slots.hpp has the slot arithmetic (CRC16 with hash tags), the
// slot map (CLUSTER SLOTS) and the redirect errors (MOVED / ASK); this file
// has ClusterCommands: one connection per master that sends each keyed command to the master
// that serves its slot, follows redirects, and loads the durable-channel
// functions on every master it connects to (functions are not replicated
// across the masters of a cluster).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/redis/cluster_slots.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/util/log.hpp"

struct redisReply;

namespace comet {

struct ClusterCommandsOptions {
  std::vector<RedisHostPort> seeds;  // where to ask for the slot map first
  std::string username, password;    // of every node
  std::chrono::milliseconds connect_timeout{2000};
  // A command not answered in this time fails, and the connection to its
  // node is dropped (it may be half-open).
  std::chrono::milliseconds timeout{3000};
  // FUNCTION LOAD'ed on every master at each connect ("already exists" is
  // fine); empty: nothing is loaded.
  std::vector<std::string> libraries;
};

class ClusterCommands {
 public:
  // The reply, or nullptr when there is none: a timeout, a lost
  // connection, no master serving the slot, too many redirects. A redirect
  // is never passed on, other error replies are.
  using Done = std::function<void(const redisReply* reply)>;

  // `log` outlives the object.
  ClusterCommands(boost::asio::io_context& io, ClusterCommandsOptions options, const Logger& log);
  ~ClusterCommands();
  ClusterCommands(const ClusterCommands&) = delete;
  ClusterCommands& operator=(const ClusterCommands&) = delete;

  // Fetches the slot map and connects to every master (loading the
  // library there).
  void start();
  // Sends `args` to the master serving `key`'s slot. `done` runs exactly
  // once, never from inside send(). Nothing runs after stop().
  void send(std::string_view key, std::vector<std::string> args, Done done);
  // Sends `args` to every master of the slot map that is not known to be
  // down, replies ignored; returns how many (0 before the slot map is
  // known). `lost` runs for each one that was waiting for its connection
  // when that connection failed (it was never sent).
  std::size_t broadcast(const std::vector<std::string>& args, const std::function<void()>& lost);
  // Drops every connection and every command in flight without a call.
  void stop();

  std::size_t masters() const;  // in the current slot map
  // The masters of the current slot map (empty before it is known).
  std::vector<RedisHostPort> master_nodes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace comet
