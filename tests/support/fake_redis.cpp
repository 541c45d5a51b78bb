#include "tests/support/fake_redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace comet::test {

namespace {

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// One command (an array of bulk strings) from the front of `in`, removed
// from it; nullopt when it is not complete yet. Throws on anything else.
std::optional<std::vector<std::string>> take_command(std::string& in) {
  std::size_t pos = 0;
  auto line = [&]() -> std::optional<std::string> {
    auto end = in.find("\r\n", pos);
    if (end == std::string::npos) return std::nullopt;
    std::string l = in.substr(pos, end - pos);
    pos = end + 2;
    return l;
  };
  auto head = line();
  if (!head) return std::nullopt;
  if (head->empty() || (*head)[0] != '*') throw std::runtime_error("not a RESP array");
  const long n = std::stol(head->substr(1));
  std::vector<std::string> args;
  for (long i = 0; i < n; ++i) {
    auto len = line();
    if (!len) return std::nullopt;
    if (len->empty() || (*len)[0] != '$') throw std::runtime_error("not a bulk string");
    const std::size_t size = std::stoul(len->substr(1));
    if (in.size() < pos + size + 2) return std::nullopt;
    args.push_back(in.substr(pos, size));
    pos += size + 2;
  }
  in.erase(0, pos);
  return args;
}

bool matches(const std::string& pattern, const std::string& channel) {
  if (!pattern.empty() && pattern.back() == '*') {
    return channel.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == channel;
}

void send_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the peer is gone: its read will say so
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

struct FakeRedis::State {
  struct Conn {
    std::string in;
    std::vector<std::string> patterns, channels;
    bool commanded = false;
  };

  int listen_fd = -1;
  int wake[2] = {-1, -1};
  int port = 0;
  mutable std::mutex mu;
  std::map<int, Conn> conns;
  std::map<std::string, std::size_t> seen;
  std::size_t accepted = 0;
  std::thread thread;

  std::size_t publish_locked(const std::string& channel, const std::string& payload) {
    std::size_t n = 0;
    for (auto& [fd, c] : conns) {
      for (const auto& p : c.patterns) {
        if (!matches(p, channel)) continue;
        send_all(fd, "*4\r\n" + bulk("pmessage") + bulk(p) + bulk(channel) + bulk(payload));
        ++n;
      }
      for (const auto& ch : c.channels) {
        if (ch != channel) continue;
        send_all(fd, "*3\r\n" + bulk("message") + bulk(ch) + bulk(payload));
        ++n;
      }
    }
    return n;
  }

  void answer(int fd, Conn& c, std::vector<std::string> args) {
    std::string name = args.empty() ? "" : args[0];
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    ++seen[name];
    if ((name == "PSUBSCRIBE" || name == "SUBSCRIBE") && args.size() >= 2) {
      auto& list = name == "PSUBSCRIBE" ? c.patterns : c.channels;
      const std::string kind = name == "PSUBSCRIBE" ? "psubscribe" : "subscribe";
      for (std::size_t i = 1; i < args.size(); ++i) {
        list.push_back(args[i]);
        send_all(fd, "*3\r\n" + bulk(kind) + bulk(args[i]) + ":" +
                         std::to_string(c.patterns.size() + c.channels.size()) + "\r\n");
      }
      return;
    }
    c.commanded = true;
    if (name == "PUBLISH" && args.size() == 3) {
      const std::size_t n = publish_locked(args[1], args[2]);
      send_all(fd, ":" + std::to_string(n) + "\r\n");
    } else if (name == "PING") {
      send_all(fd, "+PONG\r\n");
    } else {
      send_all(fd, "-ERR unknown command '" + name + "' (a fake Redis)\r\n");
    }
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds{{wake[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& [fd, c] : conns) fds.push_back({fd, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0) return;  // stop
      std::lock_guard<std::mutex> lock(mu);
      if (fds[1].revents & POLLIN) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          conns.emplace(fd, Conn{});
          ++accepted;
        }
      }
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const int fd = fds[i].fd;
        char buf[16384];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        bool close_it = n <= 0;
        if (!close_it) {
          Conn& c = conns[fd];
          c.in.append(buf, static_cast<std::size_t>(n));
          try {
            while (auto args = take_command(c.in)) answer(fd, c, std::move(*args));
          } catch (const std::exception&) {
            close_it = true;  // not a client we speak to
          }
        }
        if (close_it) {
          ::close(fd);
          conns.erase(fd);
        }
      }
    }
  }
};

FakeRedis::FakeRedis() : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.listen_fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s.listen_fd, 64) != 0 ||
      ::getsockname(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe(s.wake) != 0) {
    const int e = errno;
    ::close(s.listen_fd);
    throw std::system_error(e, std::generic_category(), "fake redis listener");
  }
  s.port = ntohs(addr.sin_port);
  s.thread = std::thread([&s] { s.run(); });
}

FakeRedis::~FakeRedis() {
  State& s = *state_;
  const char stop = 's';
  [[maybe_unused]] auto n = ::write(s.wake[1], &stop, 1);
  s.thread.join();
  for (const auto& [fd, c] : s.conns) ::close(fd);
  ::close(s.listen_fd);
  ::close(s.wake[0]);
  ::close(s.wake[1]);
}

int FakeRedis::port() const {
  return state_->port;
}

std::size_t FakeRedis::commands(const std::string& name) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->seen.find(name);
  return it == state_->seen.end() ? 0 : it->second;
}

std::size_t FakeRedis::connections_accepted() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->accepted;
}

std::size_t FakeRedis::send_to_subscribers(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::size_t n = 0;
  for (const auto& [fd, c] : state_->conns) {
    if (c.patterns.empty() && c.channels.empty()) continue;
    send_all(fd, bytes);
    ++n;
  }
  return n;
}

std::size_t FakeRedis::send_to_command_connections(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::size_t n = 0;
  for (const auto& [fd, c] : state_->conns) {
    if (!c.commanded || !c.patterns.empty() || !c.channels.empty()) continue;
    send_all(fd, bytes);
    ++n;
  }
  return n;
}

std::size_t FakeRedis::publish(const std::string& channel, const std::string& payload) {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->publish_locked(channel, payload);
}

}  // namespace comet::test
