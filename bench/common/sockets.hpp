// Client sockets on loopback: everything the bench talks to runs on this
// machine.
#pragma once

#include <string>

namespace bench {

// Connects to 127.0.0.1:port; -1 (errno set) when refused. The connect
// itself always blocks; `nonblocking` applies afterwards.
int tcp_connect(int port, bool nonblocking);

// Connects to a Unix socket; -1 when refused.
int unix_connect(const std::string& path);

// A loopback port nothing listens on right now.
int free_port();

// Writes all of `data` to a blocking or non-blocking fd; dies on an error.
void write_all(int fd, const std::string& data);

}  // namespace bench
