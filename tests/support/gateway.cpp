#include "tests/support/gateway.hpp"

#include <cstdlib>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace comet::test {

Gateway::Gateway(GatewayOptions options) : options_(std::move(options)) {
  // COMET_GATEWAY_BINARY runs the suite against another build or an
  // installed binary.
  const char* binary = std::getenv("COMET_GATEWAY_BINARY");
  std::vector<std::string> args{binary && *binary ? binary : COMET_BINARY};
  if (options_.unix_listener) {
    socket_path_ = options_.dir + "/gw.sock";
    args.push_back("--listen");
    args.push_back("unix:" + socket_path_);
  }
  if (options_.tcp_listener) {
    tcp_port_ = free_tcp_port();
    args.push_back("--listen");
    args.push_back("127.0.0.1:" + std::to_string(tcp_port_));
  }
  if (!options_.redis_url.empty()) {
    args.push_back("--redis");
    args.push_back(options_.redis_url);
  }
  for (const auto& a : options_.extra_args) args.push_back(a);

  ProcessOptions opt;
  opt.log_dir = options_.dir;
  opt.name = "comet-gateway";
  process_ = std::make_unique<Process>(args, opt);

  // Ready when every listener accepts (the "listening on" lines come with
  // it; the sockets are what clients need).
  auto ready = [&] {
    if (!process_->running()) return true;
    if (options_.unix_listener && !unix_accepts(socket_path_)) return false;
    if (options_.tcp_listener && !tcp_accepts(tcp_port_)) return false;
    return true;
  };
  if (!wait_until(ready, std::chrono::seconds(10)) || !process_->running()) {
    auto status = process_->wait_exit(std::chrono::milliseconds(0));
    throw std::runtime_error(
        "comet-gateway (" + args[0] + ") did not start listening" +
        (status ? " (exited with status " + std::to_string(*status) + ")" : std::string()) + "\n" +
        process_->output());
  }
}

Gateway::~Gateway() {
  process_->stop();
}

std::string Gateway::upstream_address() const {
  if (!socket_path_.empty()) return "unix:" + socket_path_;
  return "127.0.0.1:" + std::to_string(tcp_port_);
}

fcgi::Connection Gateway::connect() const {
  if (tcp_port_) return fcgi::Connection::tcp(tcp_port_);
  return fcgi::Connection::unix_socket(socket_path_);
}

HttpResponse Gateway::request(const std::string& method, const std::string& endpoint,
                              const std::string& query, const std::string& body,
                              std::chrono::milliseconds timeout) const {
  auto r = fcgi::request(connect(), fcgi::request_params(method, "/comet/" + endpoint, query, body),
                         timeout, body);
  return fcgi::parse_cgi_response(r.out);
}

bool Gateway::wait_healthy(std::chrono::milliseconds timeout) const {
  return wait_until(
      [&] {
        try {
          return request("GET", "health", "", {}, std::chrono::seconds(2)).status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, std::chrono::milliseconds(20));
}

}  // namespace comet::test
