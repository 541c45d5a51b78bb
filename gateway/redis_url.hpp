// The --redis URL: redis://[[user]:password@]host[:port][/db],
// unix:/path/to.sock or unix://[[user]:password@]/path/to.sock[?db=N].
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace comet {

struct RedisUrl {
  std::string host;  // empty for a Unix socket
  int port = 6379;
  std::string unix_path;  // set for a Unix socket
  std::string username;   // Redis 6 ACL user, optional
  std::string password;   // optional; never logged
  int db = 0;
  // For logs: the URL with the password replaced by "***".
  std::string redacted() const;
};

// Throws std::invalid_argument with a message naming what is wrong.
RedisUrl parse_redis_url(std::string_view text);

}  // namespace comet
