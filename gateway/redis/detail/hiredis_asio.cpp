#include "gateway/redis/detail/hiredis_asio.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <strings.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "gateway/redis/redis_url.hpp"
#include "gateway/util/log.hpp"

namespace comet::detail {

namespace asio = boost::asio;

struct HiredisAsio::Core : std::enable_shared_from_this<Core> {
  struct Pending {
    ReplyHandler fn;
    bool persistent = false;  // (P)SUBSCRIBE: one callback for many replies
  };

  Core(asio::io_context& io, Events ev, const Logger& log)
      : io(io), log(log), fd(io), timer(io), resolver(io), events(std::move(ev)) {}

  asio::io_context& io;
  const Logger& log;
  asio::posix::stream_descriptor fd;
  asio::steady_timer timer;
  asio::ip::tcp::resolver resolver;
  Events events;

  // Null before connecting and from the cleanup hook on: hiredis frees the
  // context right after that hook, and may do so inside HandleRead/Write.
  redisAsyncContext* ac = nullptr;
  bool attached = true;   // the owner wants events (false after close())
  bool finished = false;  // the terminal event has been decided
  bool connected = false;
  bool freeing = false;
  bool want_read = false, want_write = false;
  bool read_pending = false, write_pending = false;
  int depth = 0;  // > 0 while inside redisAsyncHandleRead/Write
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, Pending> pending;

  // --- hooks called by hiredis; ev.data is a heap shared_ptr<Core> that
  // keeps the Core alive for as long as hiredis may call them. All are
  // noexcept: nothing may unwind through hiredis' C frames (only a failed
  // allocation could, and that ends the process rather than corrupting
  // hiredis' state); the owner's handlers are caught in on_reply.
  static Core& from(void* data) { return **static_cast<std::shared_ptr<Core>*>(data); }
  static void add_read(void* data) noexcept {
    Core& c = from(data);
    c.want_read = true;
    c.arm_read();
  }
  static void del_read(void* data) noexcept { from(data).want_read = false; }
  static void add_write(void* data) noexcept {
    Core& c = from(data);
    c.want_write = true;
    c.arm_write();
  }
  static void del_write(void* data) noexcept { from(data).want_write = false; }
  static void cleanup(void* data) noexcept {
    auto* holder = static_cast<std::shared_ptr<Core>*>(data);
    // Moved out first: detach() may drop the last other reference.
    std::shared_ptr<Core> self = std::move(*holder);
    delete holder;
    self->detach();
  }
  static void on_connect(const redisAsyncContext* ac, int status) noexcept {
    auto* c = static_cast<Core*>(ac->data);
    // A failure is reported by the cleanup hook that follows, with errstr.
    if (c != nullptr && status == REDIS_OK) c->handle_connected();
  }
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept {
    auto* c = static_cast<Core*>(ac->data);
    if (c == nullptr) return;
    try {
      c->dispatch(reinterpret_cast<std::uintptr_t>(privdata), static_cast<redisReply*>(reply));
    } catch (const std::exception& e) {
      c->handler_failed(e.what());
    } catch (...) {
      c->handler_failed("an unknown exception");
    }
  }

  // An owner's reply handler threw: its state is unknown, so the
  // connection ends as a broken one would, and the owner reconnects.
  void handler_failed(const char* what) noexcept {
    try {
      const std::string why = std::string("a reply handler failed (") + what + ")";
      log.log(LogLevel::error, "redis", why + "; closing the connection");
      finish(why);
      free_context();  // deferred: we are inside redisAsyncHandleRead
    } catch (...) {
      // Out of memory while reporting it: the connection stays as it is.
    }
  }

  void arm_read() {
    if (read_pending || ac == nullptr) return;
    read_pending = true;
    fd.async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this()](const boost::system::error_code& ec) {
          self->read_pending = false;
          // aborted: released by the cleanup hook or closing; a
          // wait that outlived a delRead is simply dropped.
          if (ec == asio::error::operation_aborted || self->ac == nullptr || !self->want_read) {
            return;
          }
          self->handle_read();
        });
  }

  void arm_write() {
    if (write_pending || ac == nullptr) return;
    write_pending = true;
    fd.async_wait(
        asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this()](const boost::system::error_code& ec) {
          self->write_pending = false;
          if (ec == asio::error::operation_aborted || self->ac == nullptr || !self->want_write) {
            return;
          }
          ++self->depth;
          redisAsyncHandleWrite(self->ac);
          --self->depth;
          if (self->ac != nullptr && self->want_write) self->arm_write();
        });
  }

  // Any other wait error is left for hiredis to meet on its own read() or
  // getsockopt(), which gives the real reason in errstr.
  void handle_read() {
    ++depth;
    // One read(2) of up to 16 KiB and every reply it completed. Re-arming
    // the wait afterwards is enough even when more bytes are queued: Asio
    // re-registers the fd (EPOLL_CTL_MOD) for each new wait, which reports
    // data already present.
    redisAsyncHandleRead(ac);
    --depth;
    // Even when the context died in that read: replies delivered before the
    // error still need their end-of-burst.
    if (attached && events.on_read_done) events.on_read_done();
    if (ac != nullptr && want_read) arm_read();
  }

  void dispatch(std::uint64_t id, redisReply* reply) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    // A null reply means hiredis is freeing the context: drop the handler,
    // the owner hears of the end once, from the terminal event.
    if (reply == nullptr || !attached || finished) {
      if (reply == nullptr || !it->second.persistent) pending.erase(it);
      return;
    }
    if (it->second.persistent) {
      // Called in place: unordered_map nodes stay put when others are
      // added, and this one is only erased by a null reply, which cannot
      // arrive while we are inside it (frees are deferred while depth > 0).
      it->second.fn(*reply);
    } else {
      ReplyHandler fn = std::move(it->second.fn);
      pending.erase(it);
      fn(*reply);
    }
  }

  void handle_connected() {
    connected = true;
    timer.cancel();
    if (!attached) return;
    asio::post(io, [self = shared_from_this()] {
      if (self->attached && self->events.on_connected) self->events.on_connected();
    });
  }

  // Decides the one terminal event; the first reason wins (a timeout that
  // frees the context must not be reported again as "connection closed").
  void finish(std::string why) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (!attached) return;
    asio::post(io, [self = shared_from_this(), why = std::move(why), was = connected] {
      if (!self->attached) return;
      auto& handler = was ? self->events.on_disconnected : self->events.on_connect_failed;
      if (handler) handler(why);
    });
  }

  // From the cleanup hook: the context is about to be freed by hiredis.
  void detach() {
    redisAsyncContext* c = ac;
    ac = nullptr;
    if (c == nullptr) return;
    std::string why = c->c.err != 0 ? std::string(c->c.errstr) : "connection closed";
    // Nothing may reach us through this context any more, even if a newer
    // hiredis calls the hooks again (some call cleanup twice).
    c->data = nullptr;
    c->ev.data = nullptr;
    c->ev.addRead = c->ev.delRead = c->ev.addWrite = c->ev.delWrite = nullptr;
    c->ev.cleanup = nullptr;
    // hiredis closes the fd itself; release() also aborts our waits, whose
    // handlers then see ac == nullptr.
    fd.release();
    timer.cancel();
    finish(std::move(why));
  }

  void free_context() {
    if (ac == nullptr || freeing) return;
    if (depth > 0) {
      // Inside a reply handler: hiredis still walks this context after the
      // handler returns, so the free happens on a fresh stack.
      asio::post(io, [self = shared_from_this()] { self->free_context(); });
      return;
    }
    freeing = true;
    redisAsyncFree(ac);  // runs the cleanup hook before it returns
  }

  void start(redisAsyncContext* c) {
    if (c == nullptr) {
      finish("out of memory");
      return;
    }
    if (c->err != 0) {
      std::string why = c->errstr;
      redisAsyncFree(c);  // no hooks attached yet: nothing to clean up
      finish(std::move(why));
      return;
    }
    boost::system::error_code ec;
    fd.assign(c->c.fd, ec);
    if (ec) {
      redisAsyncFree(c);
      finish("cannot watch the socket: " + ec.message());
      return;
    }
    ac = c;
    c->data = this;
    c->ev.data = new std::shared_ptr<Core>(shared_from_this());
    c->ev.addRead = &add_read;
    c->ev.delRead = &del_read;
    c->ev.addWrite = &add_write;
    c->ev.delWrite = &del_write;
    c->ev.cleanup = &cleanup;
    // Also arms the first write wait: writability is how hiredis learns
    // that the non-blocking connect() has completed.
    redisAsyncSetConnectCallback(c, &on_connect);
  }
};

HiredisAsio::HiredisAsio(asio::io_context& io, Events events, const Logger& log)
    : core_(std::make_shared<Core>(io, std::move(events), log)) {}

HiredisAsio::~HiredisAsio() {
  close();
}

void HiredisAsio::connect(const RedisUrl& url, std::chrono::milliseconds timeout) {
  Core& c = *core_;
  c.timer.expires_after(timeout);
  c.timer.async_wait([self = core_, timeout](const boost::system::error_code& ec) {
    if (ec || self->connected || self->finished || !self->attached) return;
    self->finish("timed out after " + std::to_string(timeout.count()) + " ms");
    self->resolver.cancel();
    self->free_context();
  });

  if (!url.unix_path.empty()) {
    c.start(redisAsyncConnectUnix(url.unix_path.c_str()));
    return;
  }
  boost::system::error_code ec;
  asio::ip::make_address(url.host, ec);
  if (!ec) {  // a literal address: hiredis will not touch DNS
    c.start(redisAsyncConnect(url.host.c_str(), url.port));
    return;
  }
  c.resolver.async_resolve(
      url.host, std::to_string(url.port),
      [self = core_, host = url.host, port = url.port](
          const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        if (ec == asio::error::operation_aborted || self->finished || !self->attached) return;
        if (ec || results.empty()) {
          self->finish("cannot resolve " + host + ": " +
                       (ec ? ec.message() : std::string("no address")));
          return;
        }
        // hiredis takes one address. IPv4 first, as hiredis's own lookup
        // does: "localhost" must reach a Redis bound to 127.0.0.1 only.
        auto pick = results.begin();
        for (auto it = results.begin(); it != results.end(); ++it) {
          if (it->endpoint().address().is_v4()) {
            pick = it;
            break;
          }
        }
        std::string ip = pick->endpoint().address().to_string();
        self->start(redisAsyncConnect(ip.c_str(), port));
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

bool HiredisAsio::command_argv(std::vector<const char*>& argv, std::vector<std::size_t>& argvlen,
                               ReplyHandler handler) {
  Core& c = *core_;
  if (c.ac == nullptr || !c.attached || c.finished || argv.empty()) return false;
  std::string_view name(argv.front(), argvlen.front());
  bool persistent = (name.size() == 9 && strncasecmp(name.data(), "subscribe", 9) == 0) ||
                    (name.size() == 10 && strncasecmp(name.data(), "psubscribe", 10) == 0);
  std::uint64_t id = c.next_id++;
  c.pending.emplace(id, Core::Pending{std::move(handler), persistent});
  int rc = redisAsyncCommandArgv(c.ac, &Core::on_reply,
                                 reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                                 static_cast<int>(argv.size()), argv.data(), argvlen.data());
  if (rc != REDIS_OK) {
    c.pending.erase(id);
    return false;
  }
  return true;
}

void HiredisAsio::close() {
  Core& c = *core_;
  c.attached = false;
  c.timer.cancel();
  c.resolver.cancel();
  c.free_context();
}

bool HiredisAsio::connected() const {
  return core_->connected && core_->ac != nullptr && !core_->finished;
}

}  // namespace comet::detail
