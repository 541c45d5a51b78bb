// "host:port" as logs, node keys and URLs show it: an IPv6 host in
// brackets ("[::1]:7000"), so the last ':' always ends the host.
#pragma once

#include <string>
#include <string_view>

#include "gateway/redis/redis_url.hpp"

namespace comet {

std::string host_port(std::string_view host, int port);
inline std::string host_port(const RedisHostPort& at) {
  return host_port(at.host, at.port);
}
// The host part of a host_port() text, without brackets.
std::string host_of(std::string_view host_port_text);

}  // namespace comet
