// One listening socket (TCP or Unix) and its accept loop.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "fcgi/server.hpp"

namespace fcgi {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;

  // Binds and listens; throws std::runtime_error on failure.
  Listener(Server& server, const std::string& address, const ListenOptions& options);

  void start();
  // Stops accepting and removes the socket file of a Unix listener.
  void close();
  const std::string& endpoint() const { return endpoint_; }

 private:
  void accept();
  void on_accept(boost::system::error_code ec,
                 boost::asio::generic::stream_protocol::socket socket);
  // admit_peer's verdict on an accepted TCP connection; a refusal is
  // counted, and logged at the 1st, 10th, 100th ... so a scan cannot fill
  // the log.
  bool admitted(const boost::asio::generic::stream_protocol::socket& socket);

  Server& server_;
  Acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::string endpoint_;
  std::string unix_path_;
  std::function<bool(std::string_view)> admit_peer_;  // TCP only
  std::uint64_t refused_ = 0;
};

}  // namespace fcgi
