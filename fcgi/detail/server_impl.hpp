// State of a Server shared with its listeners and connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "fcgi/detail/connection.hpp"
#include "fcgi/server.hpp"

namespace fcgi {

class Listener;

struct Server::Impl {
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  explicit Impl(boost::asio::io_context& io_context)
      : io(io_context),
        read_buffer(new std::uint8_t[kReadBufferSize]),
        deadline_timer(io_context),
        grace_timer(io_context) {}

  // A request began receiving input: make sure the timer covers it.
  void watch(detail::Inbound& inbound);
  void arm_deadline_timer();
  void on_deadline();
  void maybe_finish_shutdown();

  boost::asio::io_context& io;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::unordered_set<Connection*> connections;
  // Every connection reads into this one buffer and parses it at once, so an
  // idle or parked connection owns no read buffer at all.
  std::unique_ptr<std::uint8_t[]> read_buffer;
  boost::intrusive::list<detail::Inbound, boost::intrusive::constant_time_size<false>> deadlines;
  // Undispatched input bytes charged by all connections.
  std::size_t pending_input = 0;
  boost::asio::steady_timer deadline_timer;
  bool deadline_armed = false;
  bool shutting_down = false;
  bool shutdown_finished = false;
  std::function<void()> shutdown_done;
  // Timer handlers hold a weak reference: one that completed just before
  // ~Server cancelled it must not touch the freed state.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  boost::asio::steady_timer grace_timer;
};

}  // namespace fcgi
