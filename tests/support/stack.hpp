// The whole path a site runs, for one test: redis-server, comet-gateway,
// nginx rendered from nginx.conf.example (and optionally the demo's PHP
// server), each on its own free port in its own temp dir, stopped by pid in
// reverse order of start.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/gateway.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx.hpp"
#include "tests/support/php.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sentinel.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

using json = nlohmann::json;

struct StackOptions {
  bool nginx = true;
  bool demo = false;  // php -S for examples/demo/*.php
  // The demo's COMET_TOKEN_SECRET (token.php); give the gateways the same
  // --token-secret in gateway_args.
  std::string demo_token_secret;
  // Passed to NginxOptions (more locations and servers for one test).
  std::string nginx_locations;
  std::string nginx_servers;
  std::vector<std::string> gateway_args;
  // Gateways behind nginx's one upstream (round-robin): gateway(0) in the
  // stack's directory, gateway(i) in its subdirectory "gw<i>".
  int gateways = 1;
  // Appended to redis-server's command line (RedisServer::persistent()).
  std::vector<std::string> redis_args;
  // Two replicas of redis() (same args plus --replicaof) and a
  // redis-sentinel watching them as master "m"; the gateways get a
  // redis-sentinel:// URL. Two, so that after a failover the new master
  // still has a replica to WAIT for.
  bool sentinel = false;
  // The sentinel requires this password; the gateways' URL carries it
  // (?sentinel_password=...).
  std::string sentinel_password;
  // A Redis Cluster of this many masters instead of the one redis-server
  // (redis() is then unavailable); the gateways get a redis-cluster:// URL
  // naming every node, and publish()/publish_durable() go through
  // RedisCluster.
  int cluster_masters = 0;
  int cluster_replicas = 0;  // per master
  // Gateway i's URL names the nodes from node i on (the subscription takes
  // the first that answers): the gateways then subscribe on different nodes.
  bool cluster_seeds_rotated = false;

  // The gateway alone (tests that speak FastCGI to it directly).
  static StackOptions without_nginx() {
    StackOptions o;
    o.nginx = false;
    return o;
  }
};

class Stack {
 public:
  explicit Stack(StackOptions options = {});
  ~Stack();

  TempDir& dir() { return dir_; }
  RedisServer& redis() { return *redis_; }  // the first master
  RedisCluster& cluster() { return *cluster_; }
  RedisServer& replica(std::size_t i) { return *replicas_.at(i); }
  std::size_t replicas() const { return replicas_.size(); }
  Sentinel& sentinel() { return *sentinel_; }
  Gateway& gateway(std::size_t i = 0) { return *gateways_.at(i); }
  std::size_t gateways() const { return gateways_.size(); }
  // Starts gateway i again (after stop_gateway or kill9_gateway), on the
  // same socket path, and waits until it is healthy.
  void start_gateway(std::size_t i);
  // SIGTERM, and the exit status (bounded wait).
  std::optional<int> stop_gateway(std::size_t i);
  void kill9_gateway(std::size_t i);
  Nginx& nginx() { return *nginx_; }
  int http_port() const { return nginx_->port(); }

  // Through nginx.
  HttpResponse get(const std::string& path, const Headers& headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::unique_ptr<PendingRequest> start_get(const std::string& path, const Headers& headers = {});

  // comet_parked_requests read from the gateway's stats (over FastCGI, so
  // that reading it never parks or queues behind nginx).
  double parked();
  // Waits (bounded) until comet_parked_requests == n.
  bool wait_parked(double n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // A metric from stats (sum over label sets); nullopt when absent.
  std::optional<double> metric(const std::string& name);

  // Publish through PHP (Comet::publish).
  void publish(const std::string& channel, const std::string& payload);
  // Publish through PHP (Comet::publishDurable); returns the message id.
  std::string publish_durable(const std::string& channel, const std::string& payload);

  // Log files of every process, for failure messages.
  std::string logs();

 private:
  StackOptions options_;
  TempDir dir_;
  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  std::unique_ptr<Sentinel> sentinel_;
  std::unique_ptr<RedisCluster> cluster_;
  GatewayOptions gateway_options(std::size_t i);
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::unique_ptr<PhpDemoServer> demo_;
  std::unique_ptr<Nginx> nginx_;
};

// Sum of every sample of metric `name` (with or without labels) in a
// Prometheus text exposition; nullopt when there is none.
std::optional<double> parse_metric(const std::string& text, const std::string& name);

// Standard base64 (with or without padding); throws on bad input.
std::string base64_decode(const std::string& text);

// Checks a poll answer: 200, application/json, Cache-Control no-store,
// a JSON object with a string cursor and a messages array. Returns the
// JSON; records a gtest failure (with the response) otherwise.
json expect_poll_response(const HttpResponse& r);

// The payload of one message of a poll response: "data" (UTF-8) or the
// decoded "data_base64".
std::string message_bytes(const json& message);

}  // namespace comet::test
