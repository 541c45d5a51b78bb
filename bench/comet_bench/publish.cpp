#include "bench/comet_bench/publish.hpp"

#include <poll.h>
#include <unistd.h>

#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/http_client.hpp"
#include "bench/common/sockets.hpp"

namespace bench {

std::string resp_publish(const std::string& channel, const std::string& payload) {
  return "*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(channel.size()) + "\r\n" + channel + "\r\n$" +
         std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
}

std::string nchan_publish(const std::string& channel, const std::string& payload) {
  return "POST /pub?channel=" + channel +
         " HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\n"
         "Content-Length: " +
         std::to_string(payload.size()) + "\r\n\r\n" + payload;
}

void ReplyCounter::feed(const char* d, std::size_t n) {
  in.append(d, n);
  if (http) {
    HttpResponse r;
    while (parse_response(in, off, r, false)) {
      ++count;
      if (r.status >= 300) ++failed;
    }
  } else {
    for (std::size_t e; (e = in.find("\r\n", off)) != std::string::npos; off = e + 2) {
      ++count;
      if (in[off] == '-') ++failed;
    }
  }
  if (off == in.size()) {
    in.clear();
    off = 0;
  } else if (off > 65536) {
    in.erase(0, off);
    off = 0;
  }
}

Publisher::Publisher(System sys, int port, int connections) : sys_(sys) {
  for (int i = 0; i < connections; ++i) {
    const int fd = tcp_connect(port, true);
    if (fd < 0) die("publisher connect failed");
    fds_.push_back(fd);
    out_.emplace_back();
    counters_.emplace_back(sys == System::nchan);
  }
}

Publisher::~Publisher() {
  for (int fd : fds_) ::close(fd);
}

void Publisher::add(const std::string& channel, const std::string& payload) {
  auto& out = out_[next_++ % out_.size()];
  out += sys_ != System::nchan ? resp_publish("comet:" + channel, payload)
                               : nchan_publish(channel, payload);
  ++queued_;
}

void Publisher::send() {
  std::vector<std::size_t> off(out_.size(), 0);
  std::vector<pollfd> pfds(fds_.size());
  char buf[65536];
  for (;;) {
    bool left = false;
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      while (off[i] < out_[i].size()) {
        const ssize_t n = ::write(fds_[i], out_[i].data() + off[i], out_[i].size() - off[i]);
        if (n <= 0) break;
        off[i] += static_cast<std::size_t>(n);
      }
      if (off[i] < out_[i].size()) left = true;
    }
    drain();
    if (!left) break;
    for (std::size_t i = 0; i < fds_.size(); ++i)
      pfds[i] = {fds_[i], static_cast<short>(POLLIN | (off[i] < out_[i].size() ? POLLOUT : 0)), 0};
    ::poll(pfds.data(), pfds.size(), 100);
    (void)buf;
  }
  for (auto& o : out_) o.clear();
}

void Publisher::drain() {
  char buf[65536];
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    for (ssize_t n; (n = ::read(fds_[i], buf, sizeof buf)) > 0;)
      counters_[i].feed(buf, static_cast<std::size_t>(n));
  }
}

bool Publisher::wait_replies(std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (replies() < queued_ && Clock::now() < deadline) {
    std::vector<pollfd> pfds;
    for (int fd : fds_) pfds.push_back({fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 50);
    drain();
  }
  return replies() >= queued_;
}

long Publisher::replies() const {
  long n = 0;
  for (const auto& c : counters_) n += c.count;
  return n;
}

long Publisher::failed() const {
  long n = 0;
  for (const auto& c : counters_) n += c.failed;
  return n;
}

}  // namespace bench
