#include "bench/common/nginx_conf.hpp"

#include <fstream>
#include <iterator>

#include "bench/common/die.hpp"

namespace bench {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
}

void replace_line(std::string& s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  if (p == std::string::npos) die("nginx.conf.example no longer has '" + from + "'");
  s.replace(p, from.size(), to);
}

}  // namespace

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) die("cannot read " + p.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string render_comet_example(std::string conf, int workers) {
  // The hard fd limit on this machine is 20,000; both systems get the same
  // worker_connections below it.
  replace_line(conf, "worker_processes auto;", "worker_processes " + std::to_string(workers) + ";");
  replace_line(conf, "worker_rlimit_nofile 32768;", "worker_rlimit_nofile 20000;");
  replace_line(conf, "worker_connections 16384;", "worker_connections 19000;");
  // No access log for either system, and keep-alive clients for the whole run.
  replace_line(conf, "access_log @LOG_DIR@/access.log;",
               "access_log off;\n    keepalive_requests 1000000;");
  return conf;
}

std::string add_upstream_servers(std::string conf, const std::vector<std::string>& addresses) {
  const std::string line = "server @GATEWAY@;";
  const auto at = conf.find(line);
  if (at == std::string::npos) die("nginx.conf.example no longer has '" + line + "'");
  std::string more;
  for (const auto& a : addresses) more += "\n        server " + a + ";";
  conf.insert(at + line.size(), more);
  return conf;
}

std::string fill_placeholders(std::string conf, const NginxPlaceholders& p) {
  replace_all(conf, "@USER@", p.user);
  replace_all(conf, "@PID_FILE@", p.pid_file);
  replace_all(conf, "@LOG_DIR@", p.log_dir);
  replace_all(conf, "@TEMP_DIR@", p.temp_dir);
  replace_all(conf, "@LISTEN@", p.listen);
  replace_all(conf, "@GATEWAY@", p.gateway);
  replace_all(conf, "@SHARE_DIR@", p.share_dir);
  replace_all(conf, "@DEMO_PHP@", p.demo_php);
  replace_all(conf, "@WORKERS@", std::to_string(p.workers));
  return conf;
}

}  // namespace bench
