// One hiredis 0.14 async connection driven by an Asio io_context.
//
// hiredis owns the socket and does all the I/O; Asio only tells it when the
// fd is readable or writable (async_wait on a posix::stream_descriptor that
// wraps, but never closes, the fd). hiredis 0.14 has no timers, so the
// connect timeout is an Asio steady_timer here.
//
// Lifetime rules that hiredis imposes and this class hides:
// - hiredis may free the context inside redisAsyncHandleRead/Write (on an
//   error or EOF); the cleanup hook is the last moment the context exists,
//   so every completion handler checks that it has not run yet.
// - The context must not be freed from inside one of its callbacks; close()
//   called from a reply handler defers the free to a fresh stack.
// - The owner's events are delivered from a fresh stack too (posted), so an
//   owner may destroy this object from any of its handlers.
//
// Single-threaded: all calls and handlers on the io_context's one thread.
// The io_context must outlive this object.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/util/log.hpp"

struct redisReply;

namespace comet {
struct RedisUrl;
}

namespace comet::detail {

class HiredisAsio {
 public:
  // Called with each reply; for (P)SUBSCRIBE with every reply to it (the
  // confirmation, then each message). Never called once the connection has
  // ended or close() was called: the owner learns of the end from Events.
  using ReplyHandler = std::function<void(const redisReply& reply)>;

  // Exactly one of on_connected / on_connect_failed ends a connect();
  // on_disconnected follows on_connected when the connection ends by itself.
  // None runs after close() or destruction.
  struct Events {
    std::function<void()> on_connected;
    std::function<void(const std::string& why)> on_connect_failed;
    std::function<void(const std::string& why)> on_disconnected;
    // After each redisAsyncHandleRead has returned, i.e. at the end of the
    // burst of replies that one read produced. Not posted: it runs right
    // after the burst, so that the owner can flush what the burst queued.
    std::function<void()> on_read_done;
  };

  // `log` outlives the object (a failing reply handler is logged).
  HiredisAsio(boost::asio::io_context& io, Events events, const Logger& log);
  ~HiredisAsio();  // close()
  HiredisAsio(const HiredisAsio&) = delete;
  HiredisAsio& operator=(const HiredisAsio&) = delete;

  // Once per object. Host names are resolved with Asio (hiredis 0.14 would
  // block the loop in getaddrinfo); `timeout` covers resolving and connecting.
  void connect(const RedisUrl& url, std::chrono::milliseconds timeout);

  // Sends a command with binary-safe arguments. False when the connection
  // cannot take commands (not connected yet is fine: hiredis buffers).
  bool command(std::initializer_list<std::string_view> args, ReplyHandler handler);
  bool command(const std::vector<std::string>& args, ReplyHandler handler);

  // Frees the context (closing the socket without waiting for replies);
  // no event or reply handler runs afterwards.
  void close();

  bool connected() const;

 private:
  struct Core;
  bool command_argv(std::vector<const char*>& argv, std::vector<std::size_t>& argvlen,
                    ReplyHandler handler);
  std::shared_ptr<Core> core_;
};

}  // namespace comet::detail
