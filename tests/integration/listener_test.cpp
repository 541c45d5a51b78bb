// Who may reach the gateway's FastCGI listeners: a Unix socket for its
// owner and group only, TCP for the allowed peers only. Whoever connects is
// trusted with REMOTE_ADDR (and so with --publish-allow), so this is what
// keeps local users and forged requests out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "tests/support/stack.hpp"
#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

// Connects from `source` to 127.0.0.1:port, sends `bytes` and reads until
// the gateway closes: what it answered (nothing, for a refused peer).
std::string exchange_from(const char* source, int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    throw std::runtime_error("connect from " + std::string(source));
  }
  (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return in;
}

std::string stats_request() {
  std::string out = fcgi::encode_begin_request(1, false);
  std::string params;
  for (const auto& [n, v] : fcgi::request_params("GET", "/comet/stats", "")) {
    params += fcgi::encode_name_value(n, v);
  }
  out += fcgi::encode_stream(fcgi::kParams, 1, params) + fcgi::encode_record(fcgi::kParams, 1, "");
  out += fcgi::encode_record(fcgi::kStdin, 1, "");
  return out;
}

TEST(Listener, TheUnixSocketIsForItsOwnerAndGroupOnly) {
  StackOptions o = StackOptions::without_nginx();
  Stack stack(o);
  struct stat st {};
  ASSERT_EQ(::stat(stack.gateway().socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(stack.gateway().request("GET", "health", "").status, 200);
}

TEST(Listener, TcpPeersOutsideTheAllowListAreClosedCountedAndLogged) {
  StackOptions o = StackOptions::without_nginx();
  o.gateway_args = {"--listen-allow", "127.0.0.1", "--publish-allow", "0.0.0.0/0"};
  Stack stack(o);
  const int port = stack.gateway().tcp_port();
  const std::string inside = exchange_from("127.0.0.1", port, stats_request());
  EXPECT_NE(inside.find("comet_fcgi_refused_peers_total 0"), std::string::npos) << inside;

  EXPECT_EQ(exchange_from("127.0.0.2", port, stats_request()), "");
  EXPECT_EQ(exchange_from("127.0.0.3", port, stats_request()), "");
  EXPECT_EQ(stack.metric("comet_fcgi_refused_peers_total"), 2.0);
  EXPECT_TRUE(wait_until(
      [&] {
        return stack.gateway().log().find("refused a connection from 127.0.0.2") !=
               std::string::npos;
      },
      std::chrono::seconds(5)))
      << stack.gateway().log();
}

}  // namespace
}  // namespace comet::test
