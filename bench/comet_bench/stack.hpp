// The processes of one run (redis-server, comet-gateway or bare_responder,
// nginx with one config per system), on free loopback ports, in a temporary
// directory; all stopped by pid when the Stack goes.
#pragma once

#include <sys/types.h>

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

  // Returns the address nginx is to use (unix:PATH or 127.0.0.1:PORT).
  std::string start_gateway(const std::string& transport, std::vector<std::string> extra = {}) {
    return start_responder(transport, false, std::move(extra));
  }
  // bench/bare_responder in the gateway's place (the fan-out's floor): the
  // same socket, nginx config and stats names; it takes the publishes on its
  // own control port instead of Redis.
  std::string start_bare(const std::string& transport) { return start_responder(transport, true); }
  int bare_control_port() const { return bare_control_port_; }

  std::string start_responder(const std::string& transport, bool bare,
                              std::vector<std::string> extra = {});
  pid_t gateway_pid() const { return gw_pid_; }
  const std::string& gateway_socket() const { return gw_sock_; }
  void stop_gateway();

  // nginx.conf.example rendered as bench/fanout.sh does, with the
  // benchmark's changes (see render_comet_example).
  int start_nginx_comet(const std::string& gateway);
  int start_nginx_nchan();
  pid_t nginx_pid() const { return nginx_pid_; }
  int nginx_port() const { return http_port_; }
  void stop_nginx();

 private:
  int start_nginx(std::string conf, const std::string& name);

  const Options& o_;
  fs::path dir_;
  int redis_port_ = 0, gw_port_ = 0, http_port_ = 0, bare_control_port_ = 0;
  pid_t redis_pid_ = -1, gw_pid_ = -1, nginx_pid_ = -1;
  std::string gw_sock_, gw_addr_;
};

}  // namespace bench
