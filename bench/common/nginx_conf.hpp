// nginx configurations as the bench renders them: nginx.conf.example for
// comet-gateway (and the bare responder) and bench/nginx-nchan.conf for
// nchan, through the same placeholders bench/fanout.sh fills in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bench {

// The whole file; dies when it cannot be read.
std::string read_file(const std::filesystem::path& p);

// The benchmark's only changes to nginx.conf.example, the same as in
// bench/nginx-nchan.conf: the worker count of the run, the fd limit this
// machine allows, no access log and client keep-alive for the whole run.
// Dies when the example no longer has a line it changes.
std::string render_comet_example(std::string conf, int workers);

// Further `server` lines in the comet upstream, right below the one of
// @GATEWAY@ (the example's place for them); dies when that line is gone.
std::string add_upstream_servers(std::string conf, const std::vector<std::string>& addresses);

// The values of the @NAME@ placeholders.
struct NginxPlaceholders {
  std::string user;       // @USER@
  std::string pid_file;   // @PID_FILE@
  std::string log_dir;    // @LOG_DIR@
  std::string temp_dir;   // @TEMP_DIR@
  std::string listen;     // @LISTEN@
  std::string gateway;    // @GATEWAY@: unix:PATH or 127.0.0.1:PORT
  std::string share_dir;  // @SHARE_DIR@
  std::string demo_php;   // @DEMO_PHP@
  int workers = 1;        // @WORKERS@
};

std::string fill_placeholders(std::string conf, const NginxPlaceholders& p);

}  // namespace bench
