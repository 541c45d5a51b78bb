#include "tests/support/web_server.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/nginx.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {

namespace {

std::string template_path(WebServerKind kind) {
  const std::string deploy = std::string(COMET_SOURCE_DIR) + "/deploy/";
  switch (kind) {
    case WebServerKind::apache:
      return deploy + "apache-comet.conf";
    case WebServerKind::lighttpd:
      return deploy + "lighttpd-comet.conf";
    case WebServerKind::caddy:
      return deploy + "Caddyfile";
  }
  return {};
}

std::string gateway_host(const std::string& address) {
  return address.substr(0, address.rfind(':'));
}
std::string gateway_port(const std::string& address) {
  return address.substr(address.rfind(':') + 1);
}

}  // namespace

const char* web_server_name(WebServerKind kind) {
  switch (kind) {
    case WebServerKind::apache:
      return "apache";
    case WebServerKind::lighttpd:
      return "lighttpd";
    case WebServerKind::caddy:
      return "caddy";
  }
  return "?";
}

std::map<std::string, std::string> web_server_test_values(const WebServerOptions& o, int port) {
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  switch (o.kind) {
    case WebServerKind::apache:
      return {
          {"MODULES_DIR", "/usr/lib/apache2/modules"},
          // Apache refuses to run its workers as root; as another user it
          // ignores User and Group with a warning.
          {"USER", "nobody"},
          {"GROUP", "nogroup"},
          {"RUN_DIR", o.dir},
          {"LOG_DIR", o.dir},
          {"LISTEN", listen},
          {"GATEWAY", "fcgi://" + o.gateway},
      };
    case WebServerKind::lighttpd:
      return {
          // Empty: lighttpd stays the user it was started as (it would not
          // drop to root, and nobody may not enter the test's directory).
          {"USER", ""},
          {"GROUP", ""},
          {"DIR", o.dir},
          {"BIND", "127.0.0.1"},
          {"PORT", std::to_string(port)},
          {"GATEWAY", "\"host\" => \"" + gateway_host(o.gateway) + "\", \"port\" => " +
                          gateway_port(o.gateway)},
      };
    case WebServerKind::caddy:
      return {
          // A Unix socket: a TCP port picked free can be taken by another
          // test before Caddy binds it (and Caddy then refuses to start).
          {"ADMIN", "unix/" + std::filesystem::absolute(o.dir).string() + "/admin.sock"},
          {"DATA_DIR", o.dir + "/data"},
          {"LOG_DIR", o.dir},
          {"BIND", "127.0.0.1"},
          {"SITE", "http://" + listen},
          {"GATEWAY", o.gateway},
      };
  }
  return {};
}

WebServer::WebServer(WebServerOptions options) : options_(std::move(options)) {
  if (options_.dir.empty()) throw std::invalid_argument("WebServer: dir required");
  if (options_.gateway.empty()) throw std::invalid_argument("WebServer: gateway address required");
  port_ = free_tcp_port();
  const std::string& dir = options_.dir;
  const std::string name = web_server_name(options_.kind);

  const std::string source = template_path(options_.kind);
  const std::string text = read_file(source);
  if (text.empty()) throw std::runtime_error("cannot read " + source);
  conf_ = dir + "/" + std::filesystem::path(source).filename().string();
  write_file(conf_, render_template(text, web_server_test_values(options_, port_)));

  std::vector<std::string> check;
  std::vector<std::string> args;
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = name;
  switch (options_.kind) {
    case WebServerKind::apache:
      check = {"apache2", "-t", "-f", conf_};
      args = {"apache2", "-f", conf_, "-DFOREGROUND"};
      break;
    case WebServerKind::lighttpd:
      std::filesystem::create_directories(dir + "/empty");
      std::filesystem::create_directories(dir + "/upload");
      check = {"lighttpd", "-tt", "-f", conf_};
      args = {"lighttpd", "-D", "-f", conf_};
      break;
    case WebServerKind::caddy:
      std::filesystem::create_directories(dir + "/data");
      // Caddy keeps its autosaved config under $XDG_CONFIG_HOME.
      opt.env = {"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config",
                 "XDG_DATA_HOME=" + dir + "/data"};
      args = {"caddy", "run", "--config", conf_, "--adapter", "caddyfile"};
      break;
  }
  if (!check.empty()) {
    auto r = run(check, dir, std::chrono::seconds(20));
    if (r.status != 0) {
      throw std::runtime_error(check[0] + " rejected the rendered " + source + ":\n" + r.out +
                               r.err);
    }
  }
  process_ = std::make_unique<Process>(args, opt);
  bool up = wait_until([&] { return !process_->running() || tcp_accepts(port_); },
                       std::chrono::seconds(15));
  if (!up || !process_->running()) {
    throw std::runtime_error(name + " did not start on port " + std::to_string(port_) + "\n" +
                             logs());
  }
}

WebServer::~WebServer() {
  stop();
}

std::string WebServer::logs() const {
  std::string out = process_ ? process_->output() : std::string();
  const std::string error_log = options_.dir + "/error.log";
  if (std::filesystem::exists(error_log)) out += "--- error.log ---\n" + read_file(error_log);
  return out;
}

void WebServer::stop() {
  if (process_) process_->stop();
}

}  // namespace comet::test
