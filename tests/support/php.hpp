// PHP as the site's back end: publishing through clients/php/Comet.php
// (tests/support/publish.php) and the demo's `php -S` server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace comet::test {

// Publishes payload (any bytes: handed to PHP through a file) on channel;
// throws with PHP's stderr when it fails. Bounded (30 s).
void php_publish(const std::string& dir, int redis_port, const std::string& channel,
                 const std::string& payload);

// The same with Comet::publishDurable; returns the message id it returned.
std::string php_publish_durable(const std::string& dir, int redis_port, const std::string& channel,
                                const std::string& payload);

// The same through a RedisCluster connection to `seeds` ("host:port,...");
// returns the message id when `durable`, "" otherwise.
std::string php_publish_cluster(const std::string& dir, const std::string& seeds,
                                const std::string& channel, const std::string& payload,
                                bool durable);

// A steady publish load from one PHP process (tests/support/load.php):
// `rate` messages a second for `seconds`, round-robin over `channels`;
// names starting with "d" are published with Comet::publishDurable, the
// others with Comet::publish. Each message's payload is {"n":<k>}, k
// counting from 1 per channel. Redis errors are survived (the message is
// logged as failed and the connection made again). One line per message on
// stdout: "<channel> <k> ok <id>" or "<channel> <k> fail".
// With `sentinel_port`, redis_port is ignored: the master is asked of that
// sentinel (name "m") at every (re)connect, and each durable publish waits
// for one replica (WAIT 1, 500 ms) and counts as failed when none confirmed it
// (what a publisher must do for a durable message to survive a failover).
// With `cluster_seeds` ("host:port,..."), redis_port is ignored: it
// publishes through RedisCluster, and each durable publish waits for one
// replica of the channel's master (WAIT 1, 500 ms) likewise.
std::unique_ptr<Process> php_publish_load(const std::string& dir, int redis_port,
                                          const std::vector<std::string>& channels, int rate,
                                          double seconds, int sentinel_port = 0,
                                          const std::string& cluster_seeds = "");

// Starts one PHP process that publishes {"seq":0} ... {"seq":n-1} on channel
// in a loop; the caller waits for it (wait_exit).
std::unique_ptr<Process> php_publish_burst(const std::string& dir, int redis_port,
                                           const std::string& channel, int n);

// `php -S 127.0.0.1:PORT -t examples/demo`, with COMET_REDIS_HOST/PORT set
// for send.php, and COMET_TOKEN_SECRET for token.php (the gateway's
// --token-secret; token.php answers 503 without one); waits until the port
// accepts.
class PhpDemoServer {
 public:
  PhpDemoServer(const std::string& dir, int redis_port, const std::string& token_secret = "");
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  Process& process() { return *process_; }

 private:
  int port_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
