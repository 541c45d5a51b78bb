// Async FastCGI responder server on Boost.Asio: TCP and Unix-socket
// listeners, one Connection per accepted socket, multiplexed requests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fcgi/limits.hpp"
#include "fcgi/request.hpp"

namespace fcgi {

class Listener;
class Connection;

class Server {
 public:
  Server(boost::asio::io_context& io, Handler& handler, Limits limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "127.0.0.1:9000", "[::1]:9000", "localhost:9000" or "unix:/path/to.sock"
  // (a stale socket file is replaced; the file is made world-writable so a
  // web server running as another user can connect). Throws
  // std::runtime_error with a readable message on failure (startup only).
  void listen(const std::string& endpoint);
  // The bound address of the i-th listener ("127.0.0.1:41234" or
  // "unix:/path"), so tests can listen on port 0.
  std::string local_endpoint(std::size_t i) const;

  // Stop accepting, close connections with no request in flight, and close
  // the others as soon as their requests have ended and their writes have
  // drained. `done` runs once no connection remains or after `grace`.
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t connections() const;
  const Limits& limits() const { return limits_; }

  // Internal to fcgi/.
  void connection_closed(Connection* c);
  Handler& handler() { return handler_; }

 private:
  friend class Listener;
  friend class Connection;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Handler& handler_;
  Limits limits_;
};

}  // namespace fcgi
