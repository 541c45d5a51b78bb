#include "fcgi/detail/listener.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "fcgi/detail/connection.hpp"
#include "fcgi/detail/endpoint.hpp"
#include "fcgi/detail/server_impl.hpp"

namespace fcgi {

namespace {

using Generic = boost::asio::generic::stream_protocol;

[[noreturn]] void fail(const std::string& address, const std::string& what,
                       const boost::system::error_code& ec) {
  throw std::runtime_error("cannot listen on " + address + ": " + what + ": " + ec.message());
}

// A socket file left by a crashed process is replaced; one that a live
// server still accepts on, or a file that is not a socket, is not.
void remove_stale_socket(boost::asio::io_context& io, const std::string& address,
                         const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) {
    throw std::runtime_error("cannot listen on " + address + ": " + path +
                             " exists and is not a socket");
  }
  boost::asio::local::stream_protocol::socket probe(io);
  boost::system::error_code ec;
  probe.connect(boost::asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) {
    throw std::runtime_error("cannot listen on " + address +
                             ": another process is accepting on it");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot listen on " + address + ": cannot remove stale " + path +
                             ": " + std::strerror(errno));
  }
}

// The socket file's group and mode, set before listen() so that no peer
// connects while the file still has the umask's bits.
void restrict_socket_file(const std::string& address, const std::string& path,
                          const ListenOptions& options) {
  const auto os_error = [] {
    return boost::system::error_code(errno, boost::system::system_category());
  };
  if (!options.unix_group.empty()) {
    std::vector<char> buf(16384);
    group g{};
    group* found = nullptr;
    const int rc = ::getgrnam_r(options.unix_group.c_str(), &g, buf.data(), buf.size(), &found);
    if (rc != 0 || found == nullptr) {
      throw std::runtime_error("cannot listen on " + address + ": no group named \"" +
                               options.unix_group + "\"");
    }
    if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
      fail(address, "chgrp " + options.unix_group + " (the process must be in the group)",
           os_error());
    }
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(options.unix_mode & 07777)) != 0) {
    fail(address, "chmod", os_error());
  }
}

}  // namespace

Listener::Listener(Server& server, const std::string& address, const ListenOptions& options)
    : server_(server), acceptor_(server.impl_->io), retry_timer_(server.impl_->io) {
  const detail::ListenAddress a = detail::parse_listen_address(address);
  boost::system::error_code ec;
  if (a.is_unix) {
    remove_stale_socket(server.impl_->io, address, a.path);
    const Generic::endpoint ep{boost::asio::local::stream_protocol::endpoint(a.path)};
    acceptor_.open(ep.protocol(), ec);
    if (ec) fail(address, "socket", ec);
    acceptor_.bind(ep, ec);
    if (ec) fail(address, "bind", ec);
    unix_path_ = a.path;
    restrict_socket_file(address, a.path, options);
  } else {
    admit_peer_ = options.admit_peer;
    boost::asio::ip::tcp::resolver resolver(server.impl_->io);
    const auto results = resolver.resolve(
        a.host, std::to_string(a.port),
        boost::asio::ip::tcp::resolver::numeric_service | boost::asio::ip::tcp::resolver::passive,
        ec);
    if (ec) fail(address, "resolve " + a.host, ec);
    // The first address that binds: "localhost" may resolve to ::1 on a host
    // without IPv6 loopback.
    boost::system::error_code last = boost::asio::error::host_not_found;
    for (const auto& entry : results) {
      const Generic::endpoint ep{entry.endpoint()};
      boost::system::error_code e;
      acceptor_.open(ep.protocol(), e);
      if (!e) acceptor_.set_option(Acceptor::reuse_address(true), e);
      if (!e) acceptor_.bind(ep, e);
      if (!e) {
        last = {};
        break;
      }
      last = e;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    }
    if (last) fail(address, "bind", last);
  }
  acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) fail(address, "listen", ec);
  endpoint_ = detail::format_endpoint(acceptor_.local_endpoint(ec));
  if (ec) fail(address, "local address", ec);
}

void Listener::start() {
  accept();
}

void Listener::accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, Generic::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void Listener::on_accept(boost::system::error_code ec, Generic::socket socket) {
  if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
  auto& impl = *server_.impl_;
  if (ec) {
    if (ec == boost::asio::error::no_descriptors || ec == boost::asio::error::no_buffer_space ||
        ec == boost::asio::error::no_memory || ec.value() == ENFILE) {
      // Out of descriptors: accepting again at once would spin. Pending
      // connections wait in the backlog meanwhile.
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (!e && self->acceptor_.is_open()) self->accept();
      });
      return;
    }
    accept();
    return;
  }
  if (!admitted(socket)) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else if (impl.shutting_down || impl.connections.size() >= server_.limits().max_connections) {
    // Closing at once tells the peer to try elsewhere, where leaving it in
    // the backlog would stall it.
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    auto c = std::make_shared<Connection>(server_, std::move(socket));
    impl.connections.insert(c.get());
    c->start();
  }
  accept();
}

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  if (!unix_path_.empty()) {
    ::unlink(unix_path_.c_str());
    unix_path_.clear();
  }
}

bool Listener::admitted(const Generic::socket& socket) {
  if (!admit_peer_) return true;
  boost::system::error_code ec;
  const Generic::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return false;  // already gone
  const std::string address = detail::ip_address(peer);
  if (!address.empty() && admit_peer_(address)) return true;
  ++refused_;
  ++server_.refused_peers_;
  std::uint64_t n = refused_;
  while (n % 10 == 0) n /= 10;
  if (n == 1) {
    server_.log("refused a connection from " + address + " on " + endpoint_ +
                ": not an allowed peer (" + std::to_string(refused_) + " refused so far)");
  }
  return false;
}

}  // namespace fcgi
