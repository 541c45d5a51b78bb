// A private Redis Cluster for one test: `masters` redis-servers in cluster
// mode on free loopback ports (each with a free cluster-bus port), joined
// by `redis-cli --cluster create`, slots spread evenly. No persistence, no
// replicas: the cluster's own failover is not what these tests are about.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace comet::test {

class RedisCluster {
 public:
  // Starts the nodes, creates the cluster and waits (bounded) until every
  // node says cluster_state:ok and knows every master.
  RedisCluster(const std::string& dir, int masters);
  ~RedisCluster();

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  // "127.0.0.1:P0,127.0.0.1:P1,..."
  std::string seeds() const;
  // redis-cluster://127.0.0.1:P0,... for the gateway.
  std::string url() const { return "redis-cluster://" + seeds(); }

  // CLUSTER KEYSLOT, asked of node 0.
  int key_slot(const std::string& key);
  // The port of the master that serves `slot` now, as node 0 sees it.
  int master_port_of_slot(int slot);
  // Moves `slot` with its keys to the node on `to_port`, as a resharding
  // does (IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE on every node), and
  // waits until every node agrees.
  void move_slot(int slot, int to_port);

 private:
  std::string node_id(int port);
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace comet::test
