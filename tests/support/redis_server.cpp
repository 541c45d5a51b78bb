#include "tests/support/redis_server.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "tests/support/wait.hpp"

namespace comet::test {

RedisServer::RedisServer(std::string dir, int port, std::vector<std::string> extra_args)
    : RedisServer(std::move(dir), port, RedisServerOptions{std::move(extra_args), {}, {}}) {}

RedisServer::RedisServer(std::string dir, int port, RedisServerOptions options)
    : dir_(std::move(dir)), port_(port ? port : free_tcp_port()), options_(std::move(options)) {
  start();
}

RedisServer::~RedisServer() {
  stop();
}

void RedisServer::start() {
  ProcessOptions opt;
  opt.log_dir = dir_;
  opt.name = "redis-server";
  opt.cwd = dir_;
  std::vector<std::string> args{"redis-server",
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                dir_,
                                "--daemonize",
                                "no",
                                "--logfile",
                                ""};
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  if (!options_.unix_path.empty()) {
    args.insert(args.end(),
                {"--port", "0", "--unixsocket", options_.unix_path, "--unixsocketperm", "700"});
  }
  // Later flags win in redis-server, so these can override the defaults.
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = std::make_unique<Process>(args, opt);
  bool ready = wait_until(
      [&] {
        if (!process_->running()) return true;
        if (!options_.unix_path.empty()) return unix_accepts(options_.unix_path);
        try {
          RespClient c(port_);
          auto r = c.command({"PING"}, std::chrono::seconds(1));
          return (r.type == RespValue::Type::simple && r.str == "PONG") ||
                 (r.type == RespValue::Type::error && r.str.starts_with("NOAUTH"));
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(10));
  if (!ready || !process_->running()) {
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) + "\n" +
                             process_->output());
  }
}

void RedisServer::kill9() {
  if (!process_) return;
  process_->signal(SIGKILL);
  if (!process_->wait_exit(std::chrono::seconds(5))) {
    throw std::runtime_error("redis-server survived SIGKILL");
  }
}

void RedisServer::restart() {
  stop();
  start();
}

void RedisServer::stop() {
  if (process_) process_->stop();
}

RespClient::RespClient(int port) {
  fd_ = connect_tcp(port);
}

RespClient::~RespClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RespClient::send(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  send_all(fd_, out);
}

std::optional<RespValue> RespClient::parse(std::size_t& pos) {
  auto eol = in_.find("\r\n", pos);
  if (eol == std::string::npos) return std::nullopt;
  char kind = in_[pos];
  std::string line = in_.substr(pos + 1, eol - pos - 1);
  std::size_t next = eol + 2;
  RespValue v;
  switch (kind) {
    case '+':
      v.type = RespValue::Type::simple;
      v.str = line;
      break;
    case '-':
      v.type = RespValue::Type::error;
      v.str = line;
      break;
    case ':':
      v.type = RespValue::Type::integer;
      v.integer = std::stoll(line);
      break;
    case '$': {
      long long len = std::stoll(line);
      if (len < 0) {
        v.type = RespValue::Type::null;
        break;
      }
      if (in_.size() < next + static_cast<std::size_t>(len) + 2) return std::nullopt;
      v.type = RespValue::Type::bulk;
      v.str = in_.substr(next, static_cast<std::size_t>(len));
      next += static_cast<std::size_t>(len) + 2;
      break;
    }
    case '*': {
      long long n = std::stoll(line);
      if (n < 0) {
        v.type = RespValue::Type::null;
        break;
      }
      v.type = RespValue::Type::array;
      for (long long i = 0; i < n; ++i) {
        auto e = parse(next);
        if (!e) return std::nullopt;
        v.elements.push_back(std::move(*e));
      }
      break;
    }
    default:
      throw std::runtime_error("bad RESP type byte");
  }
  pos = next;
  return v;
}

std::optional<RespValue> RespClient::read(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t pos = 0;
    if (!in_.empty()) {
      if (auto v = parse(pos)) {
        in_.erase(0, pos);
        return v;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !wait_readable(fd_, left)) return std::nullopt;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("redis connection closed");
    in_.append(buf, static_cast<std::size_t>(n));
  }
}

RespValue RespClient::command(const std::vector<std::string>& args,
                              std::chrono::milliseconds timeout) {
  send(args);
  auto v = read(timeout);
  if (!v) throw std::runtime_error("redis: no reply in time");
  return *v;
}

long long pubsub_numpat(int port) {
  try {
    RespClient c(port);
    auto r = c.command({"PUBSUB", "NUMPAT"}, std::chrono::seconds(1));
    return r.type == RespValue::Type::integer ? r.integer : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace comet::test
