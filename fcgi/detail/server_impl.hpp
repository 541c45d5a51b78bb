// State of a Server shared with its listeners and connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <unordered_set>
#include <vector>

#include "fcgi/detail/connection.hpp"
#include "fcgi/detail/deadline_queue.hpp"
#include "fcgi/error.hpp"
#include "fcgi/request_assembler.hpp"
#include "fcgi/server.hpp"

namespace fcgi {

class Listener;

struct Server::Impl {
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  explicit Impl(boost::asio::io_context& io_context)
      : io(io_context),
        read_buffer(new std::uint8_t[kReadBufferSize]),
        read_deadlines(io_context, errc::read_timeout),
        idle_deadlines(io_context, errc::idle_timeout),
        grace_timer(io_context) {}

  void maybe_finish_shutdown();

  boost::asio::io_context& io;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::unordered_set<Connection*> connections;
  // Every connection reads into this one buffer and parses it at once, so an
  // idle or parked connection owns no read buffer at all.
  std::unique_ptr<std::uint8_t[]> read_buffer;
  // Write queue bytes of all connections (WriteQueue::bytes()).
  std::size_t queued_bytes = 0;
  // Undispatched input bytes charged by all connections' assemblers.
  detail::AssemblerCore::ServerInput pending_input;
  // Limits::read_timeout: requests in their input phase, partial records.
  detail::DeadlineQueue read_deadlines;
  // Limits::idle_timeout: connections without requests.
  detail::DeadlineQueue idle_deadlines;
  // Jitter of idle deadlines, so that connections that went idle together
  // (a fan-out released them) are not all closed in the same instant.
  std::minstd_rand jitter;
  bool shutting_down = false;
  bool shutdown_finished = false;
  std::function<void()> shutdown_done;
  // Timer handlers hold a weak reference: one that completed just before
  // ~Server cancelled it must not touch the freed state.
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  boost::asio::steady_timer grace_timer;
};

}  // namespace fcgi
