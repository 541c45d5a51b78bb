#include "bench/common/http_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "bench/common/die.hpp"
#include "bench/common/sockets.hpp"

namespace bench {

namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

}  // namespace

std::string http_get(int port, const std::string& path) {
  const int fd = tcp_connect(port, false);
  if (fd < 0) return {};
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  write_all(fd, "GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const auto p = out.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : out.substr(p + 4);
}

bool parse_response(std::string_view in, std::size_t& pos, HttpResponse& r, bool want_validators) {
  const auto hend = in.find("\r\n\r\n", pos);
  if (hend == std::string_view::npos) return false;
  const std::string_view head(in.data() + pos, hend - pos);
  r = HttpResponse{};
  if (head.size() < 12) die("bad HTTP response");
  r.status = std::atoi(head.data() + 9);
  long length = -1;
  std::size_t ls = head.find("\r\n");
  while (ls != std::string_view::npos && ls < head.size()) {
    const std::size_t le = std::min(head.find("\r\n", ls + 2), head.size());
    const std::string_view line = head.substr(ls + 2, le - ls - 2);
    const auto value = [&](std::size_t n) {
      std::string_view v = line.substr(n);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    };
    if (iequals_prefix(line, "content-length:")) {
      length = std::atol(std::string(value(15)).c_str());
    } else if (iequals_prefix(line, "connection:")) {
      r.close = iequals_prefix(value(11), "close");
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      die("chunked response: the bench expects Content-Length");
    } else if (want_validators && iequals_prefix(line, "last-modified:")) {
      r.last_modified = value(14);
    } else if (want_validators && iequals_prefix(line, "etag:")) {
      r.etag = value(5);
    }
    ls = le;
    if (le == head.size()) break;
  }
  if (length < 0) length = 0;
  const std::size_t body = hend + 4;
  if (in.size() < body + static_cast<std::size_t>(length)) return false;
  r.body = std::string_view(in.data() + body, static_cast<std::size_t>(length));
  pos = body + static_cast<std::size_t>(length);
  return true;
}

void HttpLoop::open(int i) {
  Conn& c = conn(i);
  c.fd = tcp_connect(port_, true);
  if (c.fd < 0) die(std::string("connect to nginx: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = static_cast<std::uint32_t>(i);
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  c.want_out = false;
}

void HttpLoop::reconnect(int i) {
  Conn& c = conn(i);
  epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  ++reconnects_;
  c.in.clear();
  c.in_off = 0;
  c.out.clear();
  c.out_off = 0;
  open(i);
  if (c.pending == 1) {
    c.out = c.last_req;
    flush(i);
  } else {
    c.pending = 0;
  }
}

void HttpLoop::flush(int i) {
  Conn& c = conn(i);
  while (c.out_off < c.out.size()) {
    const ssize_t n = ::write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN, or an error that the read side will report
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  const bool want = !c.out.empty();
  if (want != c.want_out) {
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<std::uint32_t>(i);
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

}  // namespace bench
