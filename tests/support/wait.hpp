// Bounded waiting and loopback networking helpers.
//
// wait_until is for readiness only (a port accepting, a log line, a gauge
// reaching a value): it polls a predicate every 10 ms and gives up at the
// deadline. Tests never sleep to synchronise.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace comet::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// True as soon as pred() is true; false when timeout passes first. pred is
// evaluated at least once, and once more at the deadline.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 10ms);

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it,
// close). Another process may take it before us; the odds are low.
int free_tcp_port();

// One connect attempt, closed at once.
bool tcp_accepts(int port, const std::string& host = "127.0.0.1");
bool unix_accepts(const std::string& path);

// Connected, blocking sockets (throw on failure). Caller closes. A
// non-empty `source` binds the socket to that local address first (e.g.
// 127.0.0.2: a client that is not 127.0.0.1, still on loopback).
int connect_tcp(int port, const std::string& host = "127.0.0.1", const std::string& source = {});
int connect_unix(const std::string& path);

// Loops over send() until all is written (MSG_NOSIGNAL). Throws on error.
void send_all(int fd, const std::string& bytes);

// Waits up to timeout for fd to become readable (or hung up). False on timeout.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

}  // namespace comet::test
