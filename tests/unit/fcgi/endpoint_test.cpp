#include "fcgi/detail/endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <stdexcept>

namespace fcgi::detail {
namespace {

TEST(Endpoint, ParsesTcpForms) {
  auto a = parse_listen_address("127.0.0.1:9000");
  EXPECT_FALSE(a.is_unix);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9000);
  a = parse_listen_address("[::1]:0");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
  a = parse_listen_address("localhost:65535");
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, 65535);
}

TEST(Endpoint, ParsesUnix) {
  const auto a = parse_listen_address("unix:/run/comet.sock");
  EXPECT_TRUE(a.is_unix);
  EXPECT_EQ(a.path, "/run/comet.sock");
}

TEST(Endpoint, RejectsMalformed) {
  for (const char* bad : {"", "9000", "127.0.0.1", "127.0.0.1:", ":9000", "127.0.0.1:65536",
                          "127.0.0.1:90x", "::1:9000", "[::1:9000", "unix:", "host:-1"}) {
    EXPECT_THROW(parse_listen_address(bad), std::runtime_error) << bad;
  }
  EXPECT_THROW(parse_listen_address("unix:/" + std::string(200, 'a')), std::runtime_error);
}

TEST(Endpoint, Formats) {
  using boost::asio::generic::stream_protocol;
  const auto v4 = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 41234);
  EXPECT_EQ(format_endpoint(stream_protocol::endpoint(v4)), "127.0.0.1:41234");
  const auto v6 = boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("::1"), 9000);
  EXPECT_EQ(format_endpoint(stream_protocol::endpoint(v6)), "[::1]:9000");
  const boost::asio::local::stream_protocol::endpoint un("/tmp/x.sock");
  EXPECT_EQ(format_endpoint(stream_protocol::endpoint(un)), "unix:/tmp/x.sock");
}

}  // namespace
}  // namespace fcgi::detail
