// A private Redis Cluster for one test: `masters` redis-servers in cluster
// mode on free loopback ports (each with a free cluster-bus port), joined
// by `redis-cli --cluster create`, slots spread evenly, and optionally
// `replicas` replicas per master (for failover tests). No persistence.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace comet::test {

class RedisCluster {
 public:
  // Starts the nodes, creates the cluster and waits (bounded) until every
  // node says cluster_state:ok and knows every node, and every replica is
  // in sync with its master.
  RedisCluster(const std::string& dir, int masters, int replicas = 0);
  ~RedisCluster();

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  // "127.0.0.1:P0,127.0.0.1:P1,..."
  // "127.0.0.1:PORT,..." of every node, from node `first` on (wrapping).
  std::string seeds(std::size_t first = 0) const;
  // redis-cluster://127.0.0.1:P0,... for the gateway.
  std::string url() const { return "redis-cluster://" + seeds(); }

  // ROLE says master.
  bool is_master(std::size_t i);
  // Index of a live node other than `not_index`, to ask questions of.
  std::size_t other_than(std::size_t not_index) const { return not_index == 0 ? 1 : 0; }

  // CLUSTER KEYSLOT, asked of node 0.
  int key_slot(const std::string& key);
  // The port of the master that serves `slot` now, as node `ask` sees it.
  int master_port_of_slot(int slot, std::size_t ask = 0);
  // Moves `slot` with its keys to the node on `to_port`, as a resharding
  // does (IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE on every node), and
  // waits until every node agrees.
  void move_slot(int slot, int to_port);

 private:
  std::string node_id(int port);
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace comet::test
