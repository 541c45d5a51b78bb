// Async FastCGI responder server on Boost.Asio: TCP and Unix-socket
// listeners, one Connection per accepted socket, multiplexed requests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fcgi/limits.hpp"
#include "fcgi/reject.hpp"
#include "fcgi/request.hpp"

namespace fcgi {

class Listener;
class Connection;

// Who may connect to a listener.
struct ListenOptions {
  // Unix socket: the permission bits of the socket file (connecting needs
  // write permission): by default its owner and its group.
  unsigned unix_mode = 0660;
  // Unix socket: the group of the socket file, by name; empty keeps the
  // process's group. The process must be a member of it (or root).
  std::string unix_group;
  // TCP: called with each accepted peer's address ("127.0.0.1", "::1");
  // false closes the connection at once. Unset, every peer is accepted.
  std::function<bool(std::string_view peer)> admit_peer;
};

class Server {
 public:
  Server(boost::asio::io_context& io, Handler& handler, Limits limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "127.0.0.1:9000", "[::1]:9000", "localhost:9000" or "unix:/path/to.sock"
  // (a stale socket file is replaced). Throws std::runtime_error with a
  // readable message on failure (startup only).
  void listen(const std::string& endpoint, const ListenOptions& options = {});
  // The bound address of the i-th listener ("127.0.0.1:41234" or
  // "unix:/path"), so tests can listen on port 0.
  std::string local_endpoint(std::size_t i) const;

  // Stop accepting, close connections with no request in flight, and close
  // the others as soon as their requests have ended and their writes have
  // drained. `done` runs once no connection remains or after `grace`.
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t connections() const;
  // TCP connections closed at accept because ListenOptions::admit_peer
  // refused their peer.
  std::uint64_t refused_peers() const { return refused_peers_; }
  // Bytes queued for writing on all connections, a shared body counted once
  // per connection (what Limits::max_write_queue_bytes_total bounds).
  std::size_t queued_write_bytes() const;
  const Limits& limits() const { return limits_; }

  // Where the server reports why it closed a connection on its own (a
  // protocol error, a timeout, a limit), one line of text each; fcgi/ has no
  // logger of its own. Unset, nothing is reported. Called from the server's
  // own handlers on its executor, never from inside a call into fcgi/ (a
  // limit found during Request::respond closes from a later handler).
  using LogSink = std::function<void(std::string_view)>;
  void set_log_sink(LogSink sink) { log_sink_ = std::move(sink); }

  // Told the HTTP status of each request the server answers on its own, the
  // application never seeing it: 413 for params or a body over the limits,
  // 503 when shedding load. Unset, nothing is told. Called like the log sink.
  using RejectSink = std::function<void(int status)>;
  void set_reject_sink(RejectSink sink) { reject_sink_ = std::move(sink); }

  // Words those answers: the whole response (head and body) of a Reject,
  // in the application's error form. Unset, plain_text_reject. Called like
  // the log sink.
  using RejectWriter = std::function<Response(const Reject&)>;
  void set_reject_writer(RejectWriter writer) { reject_writer_ = std::move(writer); }

  // Internal to fcgi/.
  void connection_closed(Connection* c);
  Handler& handler() { return handler_; }
  void log(std::string_view text) const {
    if (log_sink_) log_sink_(text);
  }
  void rejected(int status) const {
    if (reject_sink_) reject_sink_(status);
  }
  Response reject_response(const Reject& r) const {
    return reject_writer_ ? reject_writer_(r) : plain_text_reject(r);
  }

 private:
  friend class Listener;
  friend class Connection;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Handler& handler_;
  Limits limits_;
  LogSink log_sink_;
  RejectSink reject_sink_;
  RejectWriter reject_writer_;
  std::uint64_t refused_peers_ = 0;
};

}  // namespace fcgi
