// The processes of one run (redis-server, comet-gateway or bare_responder,
// nginx with one config per system), on free loopback ports, in a temporary
// directory; all stopped by pid when the Stack goes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bench/comet_bench/options.hpp"

namespace bench {

class Stack {
 public:
  explicit Stack(const Options& o);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  const fs::path& dir() const { return dir_; }

  int start_redis();
  int redis_port() const { return redis_port_; }
  // Every process of ours (this one, its threads, and what it started,
  // nginx workers included).
  std::vector<int> own_pids() const;

  // Starts `count` comet-gateway processes on the run's Redis, each on its
  // own socket (gw.sock, gw-2.sock, ... or a TCP port each); returns the
  // first one's address (unix:PATH or 127.0.0.1:PORT).
  std::string start_gateways(const std::string& transport, int count,
                             std::vector<std::string> extra = {}) {
    return start_responders(transport, false, count, std::move(extra));
  }
  std::string start_gateway(const std::string& transport, std::vector<std::string> extra = {}) {
    return start_gateways(transport, 1, std::move(extra));
  }
  // bench/bare_responder in the gateway's place (the fan-out's floor): the
  // same socket, nginx config and stats names; it takes the publishes on its
  // own control port instead of Redis.
  std::string start_bare(const std::string& transport) {
    return start_responders(transport, true, 1);
  }
  int bare_control_port() const { return bare_control_port_; }

  std::string start_responders(const std::string& transport, bool bare, int count,
                               std::vector<std::string> extra = {});
  // The first responder (the only one unless several gateways run).
  pid_t gateway_pid() const { return gws_.empty() ? -1 : gws_.front().pid; }
  const std::string& gateway_socket() const { return gws_.front().sock; }
  std::vector<pid_t> gateway_pids() const;
  std::size_t gateway_count() const { return gws_.size(); }
  // One line of the responders' stats pages, read from each of them
  // directly over FastCGI (through nginx a request reaches only one):
  // per responder (-1 where it did not answer), and summed (-1 when none
  // answered).
  std::vector<long> gateway_metrics(const std::string& name) const;
  long gateway_metric(const std::string& name) const;
  void stop_gateway();

  // nginx.conf.example rendered as bench/fanout.sh does, with the
  // benchmark's changes (see render_comet_example) and one upstream
  // `server` line per running responder.
  int start_nginx_comet();
  int start_nginx_nchan();
  pid_t nginx_pid() const { return nginx_pid_; }
  int nginx_port() const { return http_port_; }
  void stop_nginx();

 private:
  int start_nginx(std::string conf, const std::string& name);

  const Options& o_;
  fs::path dir_;
  struct Responder {
    pid_t pid = -1;
    int port = 0;      // tcp
    std::string sock;  // unix
    std::string addr;  // as nginx is given it
  };
  int redis_port_ = 0, http_port_ = 0, bare_control_port_ = 0;
  pid_t redis_pid_ = -1, nginx_pid_ = -1;
  std::vector<Responder> gws_;
};

}  // namespace bench
