// One Redis connection driven by an Asio io_context, with hiredis' RESP
// parts: its command formatting and its reply reader.
//
// The socket and all I/O are Asio's; which handler each reply belongs to
// is ReplyRouter's (gateway/redis/reply_router.hpp), not hiredis' async
// dispatch: hiredis 0.14 asserts, aborting the whole process, on a reply
// that arrives with nothing waiting for it or on a short pub/sub array. A
// reply that belongs to no command (or a malformed one) ends this
// connection instead, logged once with what arrived, and the owner
// reconnects as after any loss.
//
// Lifetime: the owner's events are delivered from a fresh stack (posted),
// and reply handlers run from the read completion, so an owner may destroy
// this object from any of its handlers; nothing runs after that.
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
    // After each read has been handled, i.e. at the end of the burst of
    // replies that one read produced. Not posted: it runs right after the
    // burst, so that the owner can flush what the burst queued.
    std::function<void()> on_read_done;
  };

  // `log` outlives the object (a failing reply handler and a reply that
  // belongs to nothing are logged).
  HiredisAsio(boost::asio::io_context& io, Events events, const Logger& log);
  ~HiredisAsio();  // close()
  HiredisAsio(const HiredisAsio&) = delete;
  HiredisAsio& operator=(const HiredisAsio&) = delete;

  // Once per object. Host names are resolved with Asio; `timeout` covers
  // resolving and connecting.
  void connect(const RedisUrl& url, std::chrono::milliseconds timeout);

  // Sends a command with binary-safe arguments. False when the connection
  // cannot take commands (not connected yet is fine: it is buffered).
  // (P)UNSUBSCRIBE and MONITOR are not supported.
  bool command(std::initializer_list<std::string_view> args, ReplyHandler handler);
  bool command(const std::vector<std::string>& args, ReplyHandler handler);

  // Closes the socket without waiting for replies; no event or reply
  // handler runs afterwards.
  void close();

  bool connected() const;

 private:
  struct Core;
  bool command_argv(const std::vector<const char*>& argv, const std::vector<std::size_t>& argvlen,
                    ReplyHandler handler);
  std::shared_ptr<Core> core_;
};

}  // namespace comet::detail
