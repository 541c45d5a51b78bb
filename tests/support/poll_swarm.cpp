#include "tests/support/poll_swarm.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace comet::test {

struct PollSwarm::Conn {
  int fd = -1;
  bool connecting = false;
  std::string out;
  std::string in;
  std::string cursor;
  bool started = false;  // had its first answer
  Clock::time_point next_try{};
  Clock::time_point deadline{};
};

PollSwarm::PollSwarm(PollSwarmOptions options) : options_(std::move(options)) {
  for (auto& channels : options_.subscribers) records_.push_back(SubscriberRecord{channels, {}, 0});
}

PollSwarm::~PollSwarm() {
  stop();
}

bool PollSwarm::start(std::chrono::milliseconds timeout) {
  thread_ = std::thread([this] { run(); });
  return wait_until([&] { return started_.load() == records_.size(); }, timeout);
}

void PollSwarm::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PollSwarm::wait_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) const {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const auto seen = delivered();
    wait_until([&] { return delivered() != seen; }, quiet);
    if (delivered() == seen || Clock::now() > deadline) return;
  }
}

namespace {

long payload_n(const std::string& data) {
  auto p = data.find("\"n\":");
  if (p == std::string::npos) return -1;
  return std::strtol(data.c_str() + p + 4, nullptr, 10);
}

int open_nonblocking(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void PollSwarm::run() {
  std::vector<Conn> conns(records_.size());
  auto close_conn = [](Conn& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.in.clear();
    c.out.clear();
  };
  auto fail = [&](std::size_t i) {
    close_conn(conns[i]);
    ++records_[i].errors;
    conns[i].next_try = Clock::now() + options_.retry_after;
  };
  auto begin = [&](std::size_t i) {
    Conn& c = conns[i];
    std::string path = "/comet/poll?";
    for (const auto& ch : records_[i].channels) path += "channel=" + url_encode(ch) + "&";
    if (!c.started) {
      path += "timeout=0&since=" + url_encode(options_.first_since);
    } else {
      path += "timeout=" + std::to_string(options_.poll_timeout_s);
      if (!c.cursor.empty()) path += "&since=" + url_encode(c.cursor);
    }
    c.fd = open_nonblocking(options_.port);
    if (c.fd < 0) {
      fail(i);
      return;
    }
    c.connecting = true;
    c.out = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    c.deadline = Clock::now() + std::chrono::seconds(options_.poll_timeout_s + 15);
  };
  auto finish = [&](std::size_t i) {
    Conn& c = conns[i];
    auto r = parse_http_response(c.in, true);
    close_conn(c);
    if (!r || r->status != 200) {
      fail(i);
      return;
    }
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("cursor")) {
      fail(i);
      return;
    }
    const auto now = Clock::now();
    auto& rec = records_[i];
    if (j.contains("gaps")) {
      for (const auto& g : j["gaps"]) {
        rec.events.push_back(
            SwarmEvent{SwarmEvent::Kind::gap, g.get<std::string>(), -1, {}, now, c.cursor});
      }
    }
    for (const auto& m : j["messages"]) {
      std::string data = m.contains("data") ? m["data"].get<std::string>() : std::string();
      rec.events.push_back(SwarmEvent{SwarmEvent::Kind::message, m["channel"].get<std::string>(),
                                      payload_n(data), m["id"].get<std::string>(), now, c.cursor});
      ++delivered_;
    }
    c.cursor = j["cursor"].get<std::string>();
    if (!c.started) {
      c.started = true;
      ++started_;
    }
    c.next_try = now;  // at once: follow the cursor
  };

  std::vector<pollfd> pfds;
  std::vector<std::size_t> who;
  while (!stop_) {
    const auto now = Clock::now();
    pfds.clear();
    who.clear();
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0 && now >= c.next_try) begin(i);
      if (c.fd < 0) continue;
      if (now > c.deadline) {
        fail(i);
        continue;
      }
      pfds.push_back(
          pollfd{c.fd, static_cast<short>(c.connecting || !c.out.empty() ? POLLOUT : POLLIN), 0});
      who.push_back(i);
    }
    int n = ::poll(pfds.data(), pfds.size(), 10);
    if (n <= 0) continue;
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents == 0) continue;
      const std::size_t i = who[k];
      Conn& c = conns[i];
      if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fail(i);
          continue;
        }
        c.connecting = false;
      }
      if (!c.out.empty()) {
        ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          fail(i);
          continue;
        }
        if (w > 0) c.out.erase(0, static_cast<std::size_t>(w));
        continue;
      }
      char buf[16384];
      ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        c.in.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0) {
        finish(i);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(i);
      }
    }
  }
  for (Conn& c : conns) close_conn(c);
}

}  // namespace comet::test
