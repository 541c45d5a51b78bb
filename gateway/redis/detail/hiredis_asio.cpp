#include "gateway/redis/detail/hiredis_asio.hpp"

#include <hiredis/hiredis.h>

#include <strings.h>
#include <algorithm>
#include <array>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "gateway/redis/host_port.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/redis/reply_router.hpp"

namespace comet::detail {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;

struct HiredisAsio::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io, Events ev, const Logger& log)
      : io(io), log(log), socket(io), timer(io), resolver(io), events(std::move(ev)) {}

  asio::io_context& io;
  const Logger& log;
  Socket socket;
  asio::steady_timer timer;
  asio::ip::tcp::resolver resolver;
  Events events;
  ReplyRouter<ReplyHandler> router;
  std::string peer;  // "host:port" or the socket's path, for logs

  bool attached = true;   // the owner wants events (false after close())
  bool finished = false;  // the terminal event has been decided; socket closed
  bool connected = false;
  bool writing = false;
  std::string out;        // formatted commands not written yet
  std::string in_flight;  // the bytes of the write in progress
  // One read of up to 16 KiB, as hiredis reads, and every reply it completes.
  std::array<char, 16 * 1024> in;
  static constexpr std::size_t kFeedSlice = 2048;

  // Decides the one terminal event; the first reason wins (a timeout that
  // closes the socket must not be reported again as "connection closed").
  void end(std::string why) {
    if (finished) return;
    finished = true;
    timer.cancel();
    resolver.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);  // pending operations complete as aborted
    if (!attached) return;
    asio::post(io, [self = shared_from_this(), why = std::move(why), was = connected] {
      if (!self->attached) return;
      auto& handler = was ? self->events.on_disconnected : self->events.on_connect_failed;
      if (handler) handler(why);
    });
  }

  void connect_to(const asio::generic::stream_protocol::endpoint& at, bool tcp) {
    socket.async_connect(at, [self = shared_from_this(), tcp](const boost::system::error_code& ec) {
      if (self->finished) return;  // timed out or closed meanwhile
      if (ec) {
        self->end(ec.message());
        return;
      }
      if (tcp) {
        // As hiredis does: commands are small and a reply is awaited.
        boost::system::error_code ignored;
        self->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      boost::system::error_code failed;
      self->socket.non_blocking(true, failed);  // read() reads only what is there
      if (failed) {
        self->end("cannot make the socket non-blocking: " + failed.message());
        return;
      }
      self->connected = true;
      self->timer.cancel();
      if (self->attached) {
        asio::post(self->io, [self] {
          if (self->attached && self->events.on_connected) self->events.on_connected();
        });
      }
      self->read();
      if (!self->out.empty() && !self->writing) self->write();
    });
  }

  // Waits for readability, then reads what is there: no recv() is tried
  // before the socket is known to be readable, so a burst costs one wait
  // and one read (as with hiredis).
  void read() {
    socket.async_wait(
        Socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
          if (self->finished) return;
          if (ec) {
            self->end(ec.message());
            return;
          }
          boost::system::error_code rc;
          const std::size_t n = self->socket.read_some(asio::buffer(self->in), rc);
          if (rc == asio::error::would_block || rc == asio::error::try_again) {
            self->read();
            return;
          }
          if (rc) {
            self->end(rc == asio::error::eof ? "the server closed the connection" : rc.message());
            return;
          }
          // Fed in slices: hiredis' reader moves its unread bytes to the
          // front of its buffer each time it has used 1 KB of it, so a
          // 16 KB read fed at once would be moved ~8 KB per KB parsed.
          for (std::size_t at = 0; at < n && self->attached && !self->finished; at += kFeedSlice) {
            self->router.feed(std::string_view(self->in.data() + at, std::min(kFeedSlice, n - at)));
            self->dispatch();
          }
          // Even when the connection ended in this burst: replies delivered
          // before the end still need their end-of-burst.
          if (self->attached && self->events.on_read_done) self->events.on_read_done();
          if (!self->finished) self->read();
        });
  }

  void write() {
    writing = true;
    in_flight.swap(out);
    asio::async_write(
        socket, asio::buffer(in_flight),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing = false;
          if (self->finished) return;
          if (ec) {
            self->end(ec.message());
            return;
          }
          self->in_flight.clear();
          if (!self->out.empty()) self->write();
        });
  }

  // Every complete reply of the bytes read so far, to its handler. A
  // handler may close() (or destroy the owner): nothing runs after that.
  void dispatch() {
    while (attached && !finished) {
      auto step = router.next();
      switch (step.type) {
        case ReplyRouter<ReplyHandler>::Step::Type::need_more:
          return;
        case ReplyRouter<ReplyHandler>::Step::Type::failed:
          log.log(LogLevel::warn, "redis", "closing the connection to " + peer + ": " + step.why);
          end(step.why);
          return;
        case ReplyRouter<ReplyHandler>::Step::Type::reply:
          if (!*step.entry) break;
          try {
            (*step.entry)(*step.reply);
          } catch (const std::exception& e) {
            handler_failed(e.what());
          } catch (...) {
            handler_failed("an unknown exception");
          }
          break;
      }
    }
  }

  // An owner's reply handler threw: its state is unknown, so the
  // connection ends as a broken one would, and the owner reconnects.
  void handler_failed(const char* what) {
    const std::string why = std::string("a reply handler failed (") + what + ")";
    log.log(LogLevel::error, "redis", why + "; closing the connection");
    end(why);
  }
};

HiredisAsio::HiredisAsio(asio::io_context& io, Events events, const Logger& log)
    : core_(std::make_shared<Core>(io, std::move(events), log)) {}

HiredisAsio::~HiredisAsio() {
  close();
}

void HiredisAsio::connect(const RedisUrl& url, std::chrono::milliseconds timeout) {
  Core& c = *core_;
  c.peer = url.unix_path.empty() ? host_port(url.host, url.port) : url.unix_path;
  c.timer.expires_after(timeout);
  c.timer.async_wait([self = core_, timeout](const boost::system::error_code& ec) {
    if (ec || self->connected || self->finished) return;
    self->end("timed out after " + std::to_string(timeout.count()) + " ms");
  });

  if (!url.unix_path.empty()) {
    c.connect_to(asio::local::stream_protocol::endpoint(url.unix_path), false);
    return;
  }
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(url.host, ec);
  if (!ec) {
    c.connect_to(asio::ip::tcp::endpoint(address, static_cast<unsigned short>(url.port)), true);
    return;
  }
  c.resolver.async_resolve(
      url.host, std::to_string(url.port),
      [self = core_, host = url.host](const boost::system::error_code& ec,
                                      asio::ip::tcp::resolver::results_type results) {
        if (ec == asio::error::operation_aborted || self->finished) return;
        if (ec || results.empty()) {
          self->end("cannot resolve " + host + ": " +
                    (ec ? ec.message() : std::string("no address")));
          return;
        }
        // One address. IPv4 first, as hiredis's own lookup does:
        // "localhost" must reach a Redis bound to 127.0.0.1 only.
        auto pick = results.begin();
        for (auto it = results.begin(); it != results.end(); ++it) {
          if (it->endpoint().address().is_v4()) {
            pick = it;
            break;
          }
        }
        self->connect_to(pick->endpoint(), true);
      });
}

bool HiredisAsio::command(std::initializer_list<std::string_view> args, ReplyHandler handler) {
  std::vector<const char*> argv;
  std::vector<std::size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  return command_argv(argv, argvlen, std::move(handler));
}

bool HiredisAsio::command(const std::vector<std::string>& args, ReplyHandler handler) {
  std::vector<const char*> argv;
  std::vector<std::size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  return command_argv(argv, argvlen, std::move(handler));
}

bool HiredisAsio::command_argv(const std::vector<const char*>& argv,
                               const std::vector<std::size_t>& argvlen, ReplyHandler handler) {
  Core& c = *core_;
  if (!c.attached || c.finished || argv.empty()) return false;
  char* formatted = nullptr;
  const int len = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()),
                                         const_cast<const char**>(argv.data()), argvlen.data());
  if (len < 0 || formatted == nullptr) return false;
  c.out.append(formatted, static_cast<std::size_t>(len));
  redisFreeCommand(formatted);

  const std::string_view name(argv.front(), argvlen.front());
  const bool pattern = name.size() == 10 && strncasecmp(name.data(), "psubscribe", 10) == 0;
  if (pattern || (name.size() == 9 && strncasecmp(name.data(), "subscribe", 9) == 0)) {
    std::vector<std::string> names;
    for (std::size_t i = 1; i < argv.size(); ++i) names.emplace_back(argv[i], argvlen[i]);
    c.router.sent_subscribe(std::move(handler), pattern, std::move(names));
  } else {
    c.router.sent(std::move(handler));
  }
  if (c.connected && !c.writing) c.write();
  return true;
}

void HiredisAsio::close() {
  Core& c = *core_;
  c.attached = false;
  c.end("closed");  // reports nothing: detached
}

bool HiredisAsio::connected() const {
  return core_->connected && !core_->finished;
}

}  // namespace comet::detail
