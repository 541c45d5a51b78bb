#include "bench/common/webhook_sink.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "bench/common/die.hpp"

namespace bench {

WebhookSink::WebhookSink() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      ::listen(listen_fd_, 128) < 0)
    die("webhook receiver: bind/listen failed");
  socklen_t len = sizeof sa;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  thread_ = std::thread([this] { run(); });
}

WebhookSink::~WebhookSink() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<WebhookEvent> WebhookSink::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

long WebhookSink::count(const std::string& name) const {
  std::lock_guard lock(mu_);
  long n = 0;
  for (const auto& e : events_) n += e.name == name;
  return n;
}

void WebhookSink::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) serve(fd);
  }
}

namespace {

// The value of "key":"..." at or after `from` in `s`, before `limit`
// (the bench's names need no JSON unescaping).
std::string field(std::string_view s, std::string_view key, std::size_t from, std::size_t limit) {
  const std::string k = "\"" + std::string(key) + "\":\"";
  const auto at = s.find(k, from);
  if (at == std::string_view::npos || at >= limit) return {};
  const auto start = at + k.size();
  const auto end = s.find('"', start);
  return std::string(s.substr(start, end - start));
}

}  // namespace

// One POST per connection (the gateway sends Connection: close).
void WebhookSink::serve(int fd) {
  std::string in;
  char buf[65536];
  std::size_t head_end = std::string::npos, need = 0;
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      head_end += 4;
      const auto cl = in.find("Content-Length: ");
      need = cl == std::string::npos || cl > head_end
                 ? 0
                 : std::strtoul(in.c_str() + cl + 16, nullptr, 10);
    }
    if (in.size() >= head_end + need) break;
  }
  const auto arrived = Clock::now();
  static constexpr std::string_view kAnswer =
      "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, kAnswer.data(), kAnswer.size());
  ::close(fd);
  if (head_end == std::string::npos) return;
  ++posts_;
  const std::string_view body = std::string_view(in).substr(head_end);
  std::vector<WebhookEvent> got;
  for (std::size_t at = body.find("{\"name\":"); at != std::string_view::npos;) {
    const std::size_t next = body.find("{\"name\":", at + 1);
    const std::size_t limit = next == std::string_view::npos ? body.size() : next;
    got.push_back({field(body, "name", at, limit), field(body, "channel", at, limit),
                   field(body, "user_id", at, limit), arrived});
    at = next;
  }
  std::lock_guard lock(mu_);
  events_.insert(events_.end(), got.begin(), got.end());
}

}  // namespace bench
