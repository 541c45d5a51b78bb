#include "fcgi/detail/endpoint.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace fcgi::detail {

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress a;
  auto fail = [&](const char* why) {
    throw std::runtime_error("invalid listen address '" + text + "': " + why);
  };
  if (text.rfind("unix:", 0) == 0) {
    a.is_unix = true;
    a.path = text.substr(5);
    if (a.path.empty()) fail("empty socket path");
    if (a.path.size() >= sizeof(sockaddr_un{}.sun_path)) fail("socket path too long");
    return a;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) fail("expected host:port or unix:/path");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') fail("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    fail("IPv6 addresses must be in brackets, as in [::1]:9000");
  }
  if (host.empty()) fail("empty host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    fail("port must be a number from 0 to 65535");
  }
  a.host = std::move(host);
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

namespace {

// The TCP endpoint that `ep` holds, if it is one.
std::optional<boost::asio::ip::tcp::endpoint> as_tcp(
    const boost::asio::generic::stream_protocol::endpoint& ep) {
  const sockaddr* sa = ep.data();
  if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) return std::nullopt;
  boost::asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), sa, std::min<std::size_t>(ep.size(), tcp.capacity()));
  tcp.resize(ep.size());
  return tcp;
}

}  // namespace

std::string ip_address(const boost::asio::generic::stream_protocol::endpoint& ep) {
  const auto tcp = as_tcp(ep);
  return tcp ? tcp->address().to_string() : std::string();
}

std::string format_endpoint(const boost::asio::generic::stream_protocol::endpoint& ep) {
  const sockaddr* sa = ep.data();
  if (sa->sa_family == AF_UNIX) {
    sockaddr_un un{};
    std::memcpy(&un, sa, std::min<std::size_t>(ep.size(), sizeof un));
    const std::size_t max = ep.size() > offsetof(sockaddr_un, sun_path)
                                ? ep.size() - offsetof(sockaddr_un, sun_path)
                                : 0;
    return "unix:" + std::string(un.sun_path, strnlen(un.sun_path, max));
  }
  if (const auto tcp = as_tcp(ep)) {
    const auto addr = tcp->address();
    const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    return host + ":" + std::to_string(tcp->port());
  }
  return "unknown";
}

}  // namespace fcgi::detail
