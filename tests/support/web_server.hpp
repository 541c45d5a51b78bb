// Apache, lighttpd or Caddy for one test, configured by the repository's own
// deploy/apache-comet.conf, deploy/lighttpd-comet.conf or deploy/Caddyfile
// (rendered with this test's ports and paths, never a copy of it), in front
// of a gateway's TCP listener.
//
// TCP rather than the gateway's Unix socket: Apache's workers cannot run as
// root, and the test's directory (mode 0700, owned by the test) is closed to
// any other user, so a socket in it is out of their reach whatever its mode.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tests/support/process.hpp"

namespace comet::test {

enum class WebServerKind { apache, lighttpd, caddy };

struct WebServerOptions {
  WebServerKind kind = WebServerKind::apache;
  // Directory for the rendered config, pid, logs and the server's files.
  std::string dir;
  // The gateway's TCP listener, "127.0.0.1:port".
  std::string gateway;
};

// "apache", "lighttpd", "caddy".
const char* web_server_name(WebServerKind kind);

// The placeholder values used by the tests for the server's deploy/ file.
std::map<std::string, std::string> web_server_test_values(const WebServerOptions& options,
                                                          int port);

class WebServer {
 public:
  // Renders the server's deploy/ file into dir, checks it where the server
  // has a check (apache2 -t, lighttpd -tt), starts the server in the
  // foreground and waits (bounded) until its port accepts connections.
  explicit WebServer(WebServerOptions options);
  ~WebServer();

  int port() const { return port_; }
  const std::string& config_path() const { return conf_; }
  Process& process() { return *process_; }
  // The server's error log (and its stdout/stderr), for failure messages.
  std::string logs() const;
  void stop();

 private:
  WebServerOptions options_;
  int port_;
  std::string conf_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
