// bare_responder: the floor of the fan-out benchmark. A FastCGI responder
// that does nothing but park every poll and, when a message is published,
// answer the polls parked on its channel with the bytes comet-gateway sends
// for such a poll: one STDOUT record holding the same HTTP head and JSON body
// shape (cursor, one message), then the empty STDOUT and END_REQUEST, in one
// gather write. No cursors, no buffers, no histories: whatever the gateway
// takes beyond this is the gateway's own cost, and whatever this takes
// beyond nchan is the FastCGI hop's (nginx's upstream handling, the kernel).
//
//   bare_responder --listen unix:/path.sock|127.0.0.1:PORT --control PORT
//
// Single-threaded, plain epoll. The control port speaks the part of Redis's
// protocol that the bench uses to publish: `PUBLISH comet:NAME payload`
// (RESP arrays of bulk strings), answered `:N` (polls released). Over
// FastCGI, `.../stats` answers at once with `comet_parked_requests` and
// `comet_fcgi_connections` (as comet-gateway names them), `.../health` with
// {"redis":"up"}; every other request is a poll on its `channel=` and is
// parked until a message for that channel. FCGI_KEEP_CONN is honoured
// (closed after END_REQUEST when unset); a parked poll whose connection
// closes is dropped. Requests may be multiplexed on one connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/common/fcgi_codec.hpp"

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bare_responder: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

namespace fcgi = bench::fcgi;

struct Request {
  std::uint16_t id = 0;
  bool keep_conn = false;
  bool parked = false;
  std::string params;  // raw name-value pairs, decoded once complete
};

struct Conn {
  int fd = -1;
  std::uint32_t generation = 0;
  std::string in;
  std::string out;  // what a write did not take (rare)
  std::unordered_map<std::uint16_t, Request> requests;
  bool close_after_out = false;
};

struct Parked {
  int fd;
  std::uint32_t generation;
  std::uint16_t id;
  bool keep_conn;
};

class Responder {
 public:
  Responder(const std::string& listen, int control_port) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    listen_fd_ = open_listener(listen);
    control_listen_fd_ = open_tcp_listener(control_port);
    watch(listen_fd_);
    watch(control_listen_fd_);
  }

  void run() {
    std::vector<epoll_event> events(512);
    for (;;) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t ev = events[static_cast<std::size_t>(i)].events;
        if (fd == listen_fd_) {
          accept_all(listen_fd_, false);
        } else if (fd == control_listen_fd_) {
          accept_all(control_listen_fd_, true);
        } else if (is_control(fd)) {
          on_control(fd);
        } else {
          if (ev & EPOLLOUT) flush(fd);
          if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(fd);
        }
      }
    }
  }

 private:
  static int open_tcp_listener(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) fail("bind");
    if (::listen(fd, 4096) < 0) fail("listen");
    return fd;
  }
  static int open_listener(const std::string& spec) {
    if (spec.rfind("unix:", 0) == 0) {
      const std::string path = spec.substr(5);
      ::unlink(path.c_str());
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
      if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) fail("bind " + path);
      if (::listen(fd, 4096) < 0) fail("listen");
      return fd;
    }
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos) fail("--listen unix:PATH or 127.0.0.1:PORT");
    return open_tcp_listener(std::atoi(spec.c_str() + colon + 1));
  }

  void watch(int fd, std::uint32_t events = EPOLLIN) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  bool is_control(int fd) const {
    return static_cast<std::size_t>(fd) < control_.size() && control_[static_cast<std::size_t>(fd)];
  }
  Conn& conn(int fd) {
    if (static_cast<std::size_t>(fd) >= conns_.size())
      conns_.resize(static_cast<std::size_t>(fd) + 1);
    return conns_[static_cast<std::size_t>(fd)];
  }

  void accept_all(int lfd, bool control) {
    for (;;) {
      const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (control) {
        if (static_cast<std::size_t>(fd) >= control_.size())
          control_.resize(static_cast<std::size_t>(fd) + 1);
        control_[static_cast<std::size_t>(fd)] = true;
        control_in_[fd].clear();
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      } else {
        Conn& c = conn(fd);
        c.fd = fd;
        c.in.clear();
        c.out.clear();
        c.requests.clear();
        c.close_after_out = false;
        ++connections_;
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails on Unix: fine
      }
      watch(fd);
    }
  }

  void close_conn(int fd) {
    Conn& c = conn(fd);
    if (c.fd < 0) return;
    ::close(fd);
    c.fd = -1;
    ++c.generation;  // parked entries of this connection are now stale
    for (const auto& [id, r] : c.requests) parked_ -= r.parked ? 1 : 0;
    c.requests.clear();
    c.in.clear();
    c.out.clear();
    --connections_;
  }

  void on_readable(int fd) {
    Conn& c = conn(fd);
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      close_conn(fd);
      return;
    }
    parse(fd);
  }

  void parse(int fd) {
    Conn& c = conn(fd);
    std::size_t pos = 0;
    while (c.fd >= 0 && c.in.size() - pos >= fcgi::kHeaderLen) {
      const fcgi::Header h = fcgi::decode_header(c.in.data() + pos);
      const std::uint16_t id = h.request_id;
      if (c.in.size() - pos < h.record_len()) break;
      const std::string_view content(c.in.data() + pos + fcgi::kHeaderLen, h.content_length);
      pos += h.record_len();
      if (h.type == FCGI_BEGIN_REQUEST) {
        Request& r = c.requests[id];
        r.id = id;
        r.keep_conn = fcgi::decode_begin_request(content).keep_conn();
        r.parked = false;
        r.params.clear();
      } else if (h.type == FCGI_PARAMS) {
        auto it = c.requests.find(id);
        if (it != c.requests.end()) it->second.params.append(content);
      } else if (h.type == FCGI_STDIN && h.content_length == 0) {
        auto it = c.requests.find(id);
        if (it != c.requests.end()) dispatch(c, it->second);
      }
    }
    if (c.fd >= 0) c.in.erase(0, pos);
  }

  void dispatch(Conn& c, Request& r) {
    const std::string_view uri = fcgi::find_param(r.params, "DOCUMENT_URI");
    const std::uint16_t id = r.id;
    const bool keep = r.keep_conn;
    if (uri.ends_with("/stats") || uri.ends_with("/health")) {
      std::string body;
      if (uri.ends_with("/stats")) {
        body = "comet_parked_requests " + std::to_string(parked_) + "\ncomet_fcgi_connections " +
               std::to_string(connections_) + "\n";
      } else {
        body = "{\"redis\":\"up\"}";
      }
      c.requests.erase(id);
      const std::string full = "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body;
      answer(c.fd, id, keep, full);
      return;
    }
    std::string_view query = fcgi::find_param(r.params, "QUERY_STRING");
    std::string channel;
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view part = query.substr(0, amp);
      if (part.starts_with("channel=")) channel = part.substr(8);
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
    r.params = std::string();  // a parked poll keeps nothing but its place
    r.parked = true;
    waiting_[channel].push_back({c.fd, c.generation, id, keep});
    ++parked_;
  }

  // STDOUT header, the shared head + body, empty STDOUT + END_REQUEST: one
  // gather write, as comet-gateway writes a lone request's response.
  void answer(int fd, std::uint16_t id, bool keep_conn, std::string_view full) {
    Conn& c = conn(fd);
    char head[fcgi::kHeaderLen];
    char tail[fcgi::kResponseEndLen];
    fcgi::encode_header(head, FCGI_STDOUT, id, static_cast<std::uint16_t>(full.size()));
    fcgi::encode_response_end(tail, id);
    iovec iov[3] = {
        {head, sizeof head}, {const_cast<char*>(full.data()), full.size()}, {tail, sizeof tail}};
    const std::size_t want = sizeof head + full.size() + sizeof tail;
    if (!c.out.empty()) {
      c.out.append(head, sizeof head).append(full).append(tail, sizeof tail);
      c.close_after_out = c.close_after_out || !keep_conn;
      return;
    }
    const ssize_t n = ::writev(fd, iov, 3);
    if (n == static_cast<ssize_t>(want)) {
      if (!keep_conn) close_conn(fd);
      return;
    }
    if (n < 0 && errno != EAGAIN) {
      close_conn(fd);
      return;
    }
    std::string all;
    all.append(head, sizeof head).append(full).append(tail, sizeof tail);
    c.out = all.substr(n > 0 ? static_cast<std::size_t>(n) : 0);
    c.close_after_out = !keep_conn;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }

  void flush(int fd) {
    Conn& c = conn(fd);
    while (!c.out.empty()) {
      const ssize_t n = ::write(fd, c.out.data(), c.out.size());
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {
        close_conn(fd);
        return;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
    if (c.close_after_out) close_conn(fd);
  }

  // RESP from the bench's publisher: arrays of bulk strings.
  void on_control(int fd) {
    std::string& in = control_in_[fd];
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      ::close(fd);
      control_[static_cast<std::size_t>(fd)] = false;
      control_in_.erase(fd);
      return;
    }
    std::size_t pos = 0;
    std::string reply;
    for (;;) {
      std::vector<std::string_view> args;
      std::size_t p = pos;
      if (!parse_command(in, p, args)) break;
      pos = p;
      if (args.size() == 3 && (args[0] == "PUBLISH" || args[0] == "publish")) {
        reply += ":" + std::to_string(publish(args[1], args[2])) + "\r\n";
      } else {
        reply += "-ERR only PUBLISH\r\n";
      }
    }
    in.erase(0, pos);
    std::size_t off = 0;
    while (off < reply.size()) {
      const ssize_t n = ::write(fd, reply.data() + off, reply.size() - off);
      if (n <= 0) break;  // the bench reads its replies; a lost reply shows there
      off += static_cast<std::size_t>(n);
    }
  }

  static bool parse_command(const std::string& in, std::size_t& p,
                            std::vector<std::string_view>& args) {
    const auto line = [&](std::size_t& at) -> std::optional<long> {
      const auto e = in.find("\r\n", at);
      if (e == std::string::npos) return std::nullopt;
      const long v = std::atol(in.c_str() + at + 1);
      at = e + 2;
      return v;
    };
    if (p >= in.size() || in[p] != '*') return false;
    const auto count = line(p);
    if (!count) return false;
    for (long i = 0; i < *count; ++i) {
      if (p >= in.size() || in[p] != '$') return false;
      const auto len = line(p);
      if (!len || in.size() < p + static_cast<std::size_t>(*len) + 2) return false;
      args.emplace_back(in.data() + p, static_cast<std::size_t>(*len));
      p += static_cast<std::size_t>(*len) + 2;
    }
    return true;
  }

  long publish(std::string_view redis_channel, std::string_view payload) {
    std::string_view channel = redis_channel;
    if (channel.starts_with("comet:")) channel.remove_prefix(6);
    auto it = waiting_.find(std::string(channel));
    ++seq_;
    // The body comet-gateway sends for one plain message: its cursor and the
    // message object (the bench's payloads need no JSON escaping).
    char cursor[64];
    std::snprintf(cursor, sizeof cursor, "3.%016llx.%llx", 0x5eed5eed5eed5eedULL,
                  static_cast<unsigned long long>(seq_));
    std::string body = "{\"cursor\":\"";
    body += cursor;
    body += "\",\"messages\":[{\"channel\":\"";
    body += channel;
    body += "\",\"id\":\"";
    body += cursor;
    body += "\",\"data\":\"";
    body += payload;
    body += "\"}]}";
    std::string full =
        "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    if (it == waiting_.end()) return 0;
    std::vector<Parked> polls;
    polls.swap(it->second);
    long released = 0;
    for (const Parked& w : polls) {
      Conn& c = conn(w.fd);
      if (c.fd < 0 || c.generation != w.generation) continue;  // its connection closed
      if (c.requests.erase(w.id) == 0) continue;
      --parked_;
      ++released;
      answer(w.fd, w.id, w.keep_conn, full);
    }
    return released;
  }

  int ep_ = -1, listen_fd_ = -1, control_listen_fd_ = -1;
  std::vector<Conn> conns_;
  std::vector<bool> control_;
  std::unordered_map<int, std::string> control_in_;
  std::unordered_map<std::string, std::vector<Parked>> waiting_;
  long parked_ = 0, connections_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  std::string listen;
  int control = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--listen")
      listen = argv[i + 1];
    else if (k == "--control")
      control = std::atoi(argv[i + 1]);
  }
  if (listen.empty() || control == 0) {
    std::fprintf(stderr,
                 "usage: bare_responder --listen unix:PATH|127.0.0.1:PORT --control PORT\n");
    return 2;
  }
  Responder(listen, control).run();
}
