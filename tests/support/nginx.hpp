// nginx for one test, configured by the repository's own nginx.conf.example
// (rendered with this test's ports and paths, never a copy of it).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace comet::test {

struct NginxOptions {
  // Directory for the rendered config, pid, logs and temp files.
  std::string dir;
  // Value of @GATEWAY@: "unix:/path.sock" or "127.0.0.1:port".
  std::string gateway;
  // Value of @DEMO_PHP@ ("127.0.0.1:port"); a closed port when no demo
  // server runs (requests to /demo/send.php then get 502).
  std::string demo_php;
  // HTTP port; 0 picks a free one.
  int port = 0;
  // Further gateways in the same upstream (round-robin), each added as a
  // `server` line after the one nginx.conf.example has, as its comment
  // there says to do.
  std::vector<std::string> more_gateways;
  // Config text inserted into the example's server block, before its
  // `location /comet/` (more locations for one test), and into its http
  // block after that server (more servers).
  std::string extra_locations;
  std::string extra_servers;
};

// Replaces every @NAME@ placeholder of the template; throws when one is
// left unreplaced or a value names an unknown placeholder.
std::string render_template(const std::string& text,
                            const std::map<std::string, std::string>& values);

// The placeholder values used by the tests for nginx.conf.example.
std::map<std::string, std::string> nginx_test_values(const NginxOptions& options, int port);

class Nginx {
 public:
  // Renders COMET_SOURCE_DIR/nginx.conf.example into dir/nginx.conf, checks
  // it with `nginx -t`, starts `nginx -p dir/ -c dir/nginx.conf -g
  // 'daemon off;'` and waits until the port accepts connections.
  explicit Nginx(NginxOptions options);
  ~Nginx();

  int port() const { return port_; }
  const std::string& config_path() const { return conf_; }
  Process& process() { return *process_; }
  std::string error_log() const;
  // Graceful stop (SIGQUIT), bounded.
  void stop();
  // `nginx -s reload`: SIGHUP to the master, which starts new workers and
  // lets the old ones finish their requests. Returns once the master has
  // read the configuration again (a new worker exists), bounded.
  void reload();

 private:
  NginxOptions options_;
  int port_;
  std::string conf_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
