#include "fcgi/server.hpp"

#include <boost/asio/post.hpp>
#include <stdexcept>
#include <utility>

#include "fcgi/detail/connection.hpp"
#include "fcgi/detail/listener.hpp"
#include "fcgi/detail/server_impl.hpp"
#include "fcgi/error.hpp"

namespace fcgi {

void Server::Impl::maybe_finish_shutdown() {
  if (!shutting_down || shutdown_finished || !connections.empty()) return;
  shutdown_finished = true;
  grace_timer.cancel();
  if (shutdown_done) boost::asio::post(io, std::move(shutdown_done));
  shutdown_done = nullptr;
}

Server::Server(boost::asio::io_context& io, Handler& handler, Limits limits)
    : impl_(std::make_unique<Impl>(io)), handler_(handler), limits_(limits) {}

Server::~Server() {
  for (auto& l : impl_->listeners) l->close();
  impl_->read_deadlines.stop();
  impl_->idle_deadlines.stop();
  impl_->grace_timer.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  for (Connection* c : impl_->connections) open.push_back(c->shared_from_this());
  impl_->connections.clear();
  for (auto& c : open) {
    c->detach();
    c->close(std::make_error_code(std::errc::operation_canceled));
  }
}

void Server::listen(const std::string& endpoint, const ListenOptions& options) {
  if (impl_->shutting_down) throw std::runtime_error("cannot listen: server is shutting down");
  auto l = std::make_shared<Listener>(*this, endpoint, options);
  l->start();
  impl_->listeners.push_back(std::move(l));
}

std::string Server::local_endpoint(std::size_t i) const {
  if (i >= impl_->listeners.size()) throw std::out_of_range("no listener " + std::to_string(i));
  return impl_->listeners[i]->endpoint();
}

void Server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  auto& impl = *impl_;
  if (impl.shutting_down) {
    // A second call keeps the first grace period; both callbacks run.
    if (!done) return;
    if (impl.shutdown_finished) {
      boost::asio::post(impl.io, std::move(done));
    } else if (impl.shutdown_done) {
      impl.shutdown_done = [first = std::move(impl.shutdown_done), second = std::move(done)] {
        first();
        second();
      };
    } else {
      impl.shutdown_done = std::move(done);
    }
    return;
  }
  impl.shutting_down = true;
  impl.shutdown_done = std::move(done);
  for (auto& l : impl.listeners) l->close();
  std::vector<std::shared_ptr<Connection>> open;
  for (Connection* c : impl.connections) open.push_back(c->shared_from_this());
  for (auto& c : open) c->drain();
  impl.grace_timer.expires_after(grace);
  impl.grace_timer.async_wait(
      [&impl, alive = std::weak_ptr<int>(impl.alive)](boost::system::error_code ec) {
        if (ec || alive.expired()) return;
        std::vector<std::shared_ptr<Connection>> left;
        for (Connection* c : impl.connections) left.push_back(c->shared_from_this());
        for (auto& c : left) c->close(std::make_error_code(std::errc::timed_out));
        impl.maybe_finish_shutdown();
      });
  impl.maybe_finish_shutdown();
}

std::size_t Server::connections() const {
  return impl_->connections.size();
}

std::size_t Server::queued_write_bytes() const {
  return impl_->queued_bytes;
}

void Server::connection_closed(Connection* c) {
  impl_->connections.erase(c);
  impl_->maybe_finish_shutdown();
}

}  // namespace fcgi
