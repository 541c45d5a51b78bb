// Parsing of listen addresses ("127.0.0.1:9000", "[::1]:9000",
// "localhost:9000", "unix:/path") and formatting of bound ones.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <cstdint>
#include <string>

namespace fcgi::detail {

struct ListenAddress {
  bool is_unix = false;
  std::string path;  // unix
  std::string host;  // tcp, without brackets
  std::uint16_t port = 0;
};

// Throws std::runtime_error naming the address when it is malformed.
ListenAddress parse_listen_address(const std::string& text);

// The address of a TCP endpoint without its port ("127.0.0.1", "::1"); ""
// for any other kind.
std::string ip_address(const boost::asio::generic::stream_protocol::endpoint& ep);

// "127.0.0.1:41234", "[::1]:41234" or "unix:/path".
std::string format_endpoint(const boost::asio::generic::stream_protocol::endpoint& ep);

}  // namespace fcgi::detail
