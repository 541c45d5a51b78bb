// The bench's HTTP/1.1 client: one-shot GETs for stats pages, and many
// keep-alive connections on one epoll loop for the load (its own loop, no
// framework, so that the client is not what is measured).
#pragma once

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common/clock.hpp"

namespace bench {

// One GET with Connection: close; returns the body ("" on failure).
std::string http_get(int port, const std::string& path);

// HTTP/1.1 responses, parsed incrementally (Content-Length bodies: both
// nginx configurations produce them for these responses).
struct HttpResponse {
  int status = 0;
  bool close = false;
  std::string_view body;
  std::string last_modified, etag;
};

// Parses one response at in[pos..]; on success advances pos past it. The
// validators (Last-Modified, Etag) are kept only when asked for: nchan's
// subscribers follow them, comet's need none.
bool parse_response(std::string_view in, std::size_t& pos, HttpResponse& r, bool want_validators);

// Many keep-alive HTTP connections on one epoll loop. Each carries requests
// one at a time (subscribers) or pipelined (publishers).
class HttpLoop {
 public:
  struct Conn {
    int fd = -1;
    std::string out;
    std::size_t out_off = 0;
    std::string in;
    std::size_t in_off = 0;
    int pending = 0;       // requests without a response yet
    std::string last_req;  // resent after a reconnect when pending == 1
    bool want_out = false;
  };

  HttpLoop(int port, bool validators) : port_(port), validators_(validators) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
  }
  ~HttpLoop() {
    for (auto& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(ep_);
  }
  int add() {
    conns_.emplace_back();
    open(static_cast<int>(conns_.size() - 1));
    return static_cast<int>(conns_.size() - 1);
  }
  std::size_t size() const { return conns_.size(); }
  Conn& conn(int i) { return conns_[static_cast<std::size_t>(i)]; }
  long reconnects() const { return reconnects_; }

  void send(int i, std::string req) {
    Conn& c = conn(i);
    ++c.pending;
    c.last_req = req;
    c.out.append(req);
    flush(i);
  }

  // Calls on_response(i, response) for each complete response until done()
  // or the deadline; returns false on the deadline.
  template <class OnResponse, class Done>
  bool run(OnResponse&& on_response, Done&& done, Clock::time_point deadline, int tick_ms = 50) {
    std::vector<epoll_event> events(1024);
    char buf[65536];
    while (!done()) {
      if (Clock::now() > deadline) return false;
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), tick_ms);
      for (int e = 0; e < n; ++e) {
        const int i = static_cast<int>(events[static_cast<std::size_t>(e)].data.u32);
        Conn& c = conn(i);
        if (events[static_cast<std::size_t>(e)].events & EPOLLOUT) flush(i);
        if (!(events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
          continue;
        bool eof = false;
        bool reopen = false;
        HttpResponse resp;
        const auto parse = [&](std::string_view in, std::size_t& pos) {
          while (parse_response(in, pos, resp, validators_)) {
            --c.pending;
            reopen = reopen || resp.close;
            on_response(i, resp);
          }
        };
        for (;;) {
          const ssize_t r = ::read(c.fd, buf, sizeof buf);
          if (r > 0) {
            const std::string_view got(buf, static_cast<std::size_t>(r));
            if (c.in_off == c.in.size()) {
              // Nothing left over: the responses are read where the socket
              // put them, and only an incomplete one is copied (the bench
              // reads every byte its subscribers receive, on the machine
              // it measures).
              std::size_t pos = 0;
              parse(got, pos);
              c.in.assign(got.substr(pos));
              c.in_off = 0;
            } else {
              c.in.append(got);
              parse(c.in, c.in_off);
              if (c.in_off == c.in.size()) {
                c.in.clear();
                c.in_off = 0;
              } else if (c.in_off > 65536) {
                c.in.erase(0, c.in_off);
                c.in_off = 0;
              }
            }
            if (static_cast<std::size_t>(r) < sizeof buf) break;
            continue;
          }
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && errno == EAGAIN) break;
          eof = true;
          break;
        }
        if (eof || reopen) reconnect(i);
      }
    }
    return true;
  }

 private:
  void open(int i);
  // The server closed (keepalive_requests, an error): reopen, and resend a
  // lone request still unanswered.
  void reconnect(int i);
  void flush(int i);

  int port_;
  bool validators_;
  int ep_;
  std::vector<Conn> conns_;
  long reconnects_ = 0;
};

}  // namespace bench
