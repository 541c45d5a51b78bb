// The --redis URL: redis://[[user]:password@]host[:port][/db],
// unix:/path/to.sock or unix://[[user]:password@]/path/to.sock[?db=N], or
// redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db]
// [?sentinel_password=P[&sentinel_username=U]] (the sentinels to ask where
// the master MASTER is; the credentials and db are the master's, the query
// holds the sentinels' own), or
// redis-cluster://[[user]:password@]host[:port][,host[:port]...] (some nodes
// of a Redis Cluster to start from; the credentials are the nodes').
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comet {

struct RedisHostPort {
  std::string host;
  int port = 26379;
  bool operator==(const RedisHostPort&) const = default;
};

struct RedisUrl {
  // host/port: the server, or for a sentinel URL the master last resolved
  // (empty until then).
  std::string host;  // empty for a Unix socket
  int port = 6379;
  std::string unix_path;  // set for a Unix socket
  std::string username;   // Redis 6 ACL user, optional
  std::string password;   // optional; never logged
  int db = 0;
  // Set for redis-sentinel://: the sentinels in the order given, and the
  // name they monitor the master under.
  std::vector<RedisHostPort> sentinels;
  std::string master_name;
  // The sentinels' own credentials (Sentinel's requirepass / ACL), from
  // ?sentinel_password=...&sentinel_username=...; empty: none.
  std::string sentinel_username, sentinel_password;
  bool sentinel() const { return !sentinels.empty(); }
  // Set for redis-cluster://: the nodes to start from, in the order given
  // (port 6379 by default). A cluster has database 0 only.
  std::vector<RedisHostPort> cluster_nodes;
  bool cluster() const { return !cluster_nodes.empty(); }
  // For logs: the URL with the password replaced by "***".
  std::string redacted() const;
};

// Throws std::invalid_argument with a message naming what is wrong.
RedisUrl parse_redis_url(std::string_view text);

}  // namespace comet
