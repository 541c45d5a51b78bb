// comet-gateway (COMET_BINARY, or $COMET_GATEWAY_BINARY when set) for one test: listens on a Unix
// socket in the test's directory (for nginx) and on a loopback TCP port (for direct FastCGI clients
// and cgi-fcgi).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/fcgi_client.hpp"
#include "tests/support/process.hpp"

namespace comet::test {

struct GatewayOptions {
  std::string dir;
  std::string redis_url;  // --redis
  bool unix_listener = true;
  bool tcp_listener = true;
  std::vector<std::string> extra_args;
};

class Gateway {
 public:
  // Starts the binary and waits (bounded) until every listener accepts
  // connections; throws with the gateway's log if it exits or never does.
  explicit Gateway(GatewayOptions options);
  ~Gateway();

  const std::string& socket_path() const { return socket_path_; }  // "" without
  int tcp_port() const { return tcp_port_; }                       // 0 without
  // Address for nginx's upstream (@GATEWAY@).
  std::string upstream_address() const;
  Process& process() { return *process_; }
  std::string log() const { return process_->stderr_text(); }

  // A FastCGI connection to the gateway (TCP if it listens on TCP).
  fcgi::Connection connect() const;
  // One request on a fresh connection; the CGI response as an HttpResponse.
  HttpResponse request(const std::string& method, const std::string& endpoint,
                       const std::string& query, const std::string& body = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // GET health == 200, polled until the deadline.
  bool wait_healthy(std::chrono::milliseconds timeout) const;

 private:
  GatewayOptions options_;
  std::string socket_path_;
  int tcp_port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
