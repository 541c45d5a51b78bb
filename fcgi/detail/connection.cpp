#include "fcgi/detail/connection.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fcgi/detail/endpoint.hpp"
#include "fcgi/detail/server_impl.hpp"
#include "fcgi/error.hpp"

namespace fcgi {

namespace {

bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

// Gather entries per write: a response takes four or five, so this is about
// a hundred responses of a fan-out on a multiplexed connection per system
// call; at IOV_MAX (1024) the kernel's per-entry work would dominate.
// Asio's write_some passes at most 64 entries on, so gather_write calls
// sendmsg itself.
constexpr std::size_t kMaxIovecs = 512;
static_assert(kMaxIovecs <= IOV_MAX);
static_assert(kMaxIovecs <= UINT16_MAX, "Connection::unsent_pos_ indexes a gather list");

// One non-blocking sendmsg of up to kMaxIovecs entries; the bytes written,
// with `ec` set (would_block included) when none were.
std::size_t gather_write(int fd, const boost::asio::const_buffer* bufs, std::size_t n,
                         boost::system::error_code& ec) {
  static thread_local std::array<iovec, kMaxIovecs> iov;
  n = std::min(n, kMaxIovecs);
  for (std::size_t i = 0; i < n; ++i) {
    iov[i].iov_base = const_cast<void*>(bufs[i].data());
    iov[i].iov_len = bufs[i].size();
  }
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = n;
  while (true) {
    const ssize_t rc = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (rc >= 0) {
      ec.clear();
      return static_cast<std::size_t>(rc);
    }
    if (errno == EINTR) continue;
    ec = boost::system::error_code(errno, boost::asio::error::get_system_category());
    return 0;
  }
}

// Reads per readiness event before yielding to other connections.
constexpr int kMaxReadsPerWakeup = 4;

}  // namespace

#if defined(__LP64__)
// nginx, Apache and lighttpd open one FastCGI connection per request and
// never multiplex, so a parked poll costs a whole Connection: every byte
// here is a byte per parked poll. Members are ordered to leave no padding.
static_assert(sizeof(Connection) <= 512, "Connection grew past 512 bytes");
#endif

Connection::Connection(Server& server, Socket socket)
    : server_(&server),
      socket_(std::move(socket)),
      assembler_(server.limits(), &server.impl_->pending_input) {}

void Connection::start() {
  boost::system::error_code ec;
  // Reads and writes are tried at once and only wait when they would block.
  socket_.non_blocking(true, ec);
  const int family = socket_.local_endpoint(ec).data()->sa_family;
  if (!ec && (family == AF_INET || family == AF_INET6)) {
    // Responses go out in one gather write; Nagle would only delay them.
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  }
  update_idle_deadline();
  wait_read();
}

void Connection::update_record_deadline() {
  if (assembler_.between_records()) {
    record_deadline_.disarm();
    return;
  }
  // A record of at most 64 KB has no reason to take longer than a whole
  // request's input; this is what times out a peer that stops inside a
  // header or a record when no request of its is in its input phase.
  if (record_deadline_.armed() && record_timed_ == assembler_.records()) return;
  record_timed_ = assembler_.records();
  server_->impl_->read_deadlines.arm(
      record_deadline_, std::chrono::steady_clock::now() + server_->limits().read_timeout);
}

void Connection::update_idle_deadline() {
  if (closed_ || assembler_.requests() != 0) {
    idle_deadline_.disarm();
    return;
  }
  const auto timeout = server_->limits().idle_timeout;
  if (idle_deadline_.armed() || timeout.count() <= 0) return;
  auto& impl = *server_->impl_;
  const auto spread = timeout / 16;
  const auto jitter = spread.count() > 0 ? std::chrono::milliseconds(impl.jitter() % spread.count())
                                         : std::chrono::milliseconds(0);
  impl.idle_deadlines.arm(idle_deadline_, std::chrono::steady_clock::now() + timeout + jitter);
}

void Connection::wait_read() {
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    self->on_readable(ec);
  });
}

void Connection::on_readable(std::error_code ec) {
  if (closed_ || closing_) return;
  if (ec) {
    close(ec);
    return;
  }
  auto& impl = *server_->impl_;
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    boost::system::error_code rec;
    const std::size_t n = socket_.read_some(
        boost::asio::buffer(impl.read_buffer.get(), Server::Impl::kReadBufferSize), rec);
    if (would_block(rec)) break;
    if (rec) {
      // EOF or reset: the peer gave up on whatever is unfinished.
      close(rec);
      return;
    }
    consume(impl.read_buffer.get(), n);
    if (closed_ || closing_) return;
    if (n < Server::Impl::kReadBufferSize) break;
  }
  wait_read();
}

void Connection::consume(const std::uint8_t* data, std::size_t size) {
  std::size_t used = 0;
  Assembler::Action action;
  while (used < size) {
    used += assembler_.put(data + used, size - used, action);
    if (action.step != Assembler::Step::none) {
      perform(action);
      if (closed_ || closing_) return;
    }
  }
  update_record_deadline();
}

void Connection::perform(Assembler::Action& a) {
  using Step = Assembler::Step;
  switch (a.step) {
    case Step::none:
      return;
    case Step::begin:
      on_begin(a);
      return;
    case Step::dispatch:
      on_dispatch(a);
      return;
    case Step::reject:
      on_reject(a);
      return;
    case Step::end_request:
      send_end_request(a.id, a.protocol_status, a.keep_conn);
      return;
    case Step::abort:
      on_abort(a);
      return;
    case Step::answer:
      out_.push_bytes(a.bytes.data(), a.bytes.size());
      flush();
      return;
    case Step::close:
      close(a.error);
      return;
  }
}

void Connection::send_end_request(std::uint16_t id, std::uint8_t protocol_status, bool keep_conn) {
  const auto rec = encode_end_request(id, 0, protocol_status);
  out_.push_bytes(rec.data(), rec.size(), !keep_conn);
  flush();
}

void Connection::on_begin(const Assembler::Action& a) {
  detail::Deadline& deadline = a.input_payload->deadline;
  deadline.connection = this;
  server_->impl_->read_deadlines.arm(
      deadline, std::chrono::steady_clock::now() + server_->limits().read_timeout);
  update_idle_deadline();
}

void Connection::on_dispatch(Assembler::Action& a) {
  Slot* slot = a.active;
  auto request = std::make_shared<Request>(shared_from_this(), a.id, FCGI_RESPONDER, a.keep_conn);
  {
    // Dispatched requests have no input and no deadline: they may be parked
    // for long. Destroying the input disarms its deadline.
    const auto input = std::move(a.input);
    request->mutable_params() = std::move(input->params);
    request->mutable_body() = std::move(input->body);
  }
  slot->request = request;
  // The handler may answer at once, which erases the slot.
  server_->handler().on_request(request);
}

void Connection::on_reject(Assembler::Action& a) {
  // The assembler has forgotten the request; its slot goes now.
  a.payload = {};
  // The idle timeout restarts: a request came, even one refused at once.
  idle_deadline_.disarm();
  update_idle_deadline();
  // The application never saw it; its later records are ignored as those of
  // an inactive id.
  send(a.id, server_->reject_response(a.reject), true, a.keep_conn);
  server_->rejected(a.reject.status);
}

void Connection::on_abort(Assembler::Action& a) {
  // The assembler has forgotten the request and handed its slot back.
  RequestPtr request = std::move(a.payload.request);
  const bool stdout_open = a.payload.stdout_open;
  a.payload = {};
  // The spec has the application answer an abort with END_REQUEST; a
  // stream already begun (SSE) is closed first, as every response is: empty
  // STDOUT, then END_REQUEST.
  if (stdout_open) {
    const auto eos = encode_stdout_header(a.id, 0);
    out_.push_bytes(eos.data(), eos.size());
  }
  update_idle_deadline();
  send_end_request(a.id, FCGI_REQUEST_COMPLETE, a.keep_conn);
  if (request) request->abort();
}

void Connection::send(std::uint16_t id, Response&& r, bool end, bool keep_conn) {
  if (end) {
    assembler_.finished(id);
    update_idle_deadline();
  } else if (!r.head.empty() || (r.body && !r.body->empty()) || !r.tail.empty()) {
    if (Slot* slot = assembler_.payload(id)) slot->stdout_open = true;
  }
  if (closed_ || closing_) return;
  if (out_.empty() && !write_waiting_ && assembler_.requests() <= (end ? 0u : 1u)) {
    // The web server case: one request, nothing queued. No queue item, no
    // gather list walk: the parts go to the socket as they are, and only
    // what it does not take is queued.
    std::size_t total = 0;
    const auto written = write_direct(id, r, end, total);
    if (closed_ || closing_) return;
    if (written && *written == total) {
      if (end && !keep_conn) {
        // FCGI_KEEP_CONN was unset: the peer expects EOF after END_REQUEST.
        close_later({});
      } else if (draining_ && idle()) {
        close_later({});
      }
      return;
    }
    out_.push_response(id, std::move(r), end, end && !keep_conn, written.value_or(0));
    flush();
    return;
  }
  out_.push_response(id, std::move(r), end, end && !keep_conn);
  // Other requests in flight on this connection (a multiplexing client):
  // a fan-out usually answers many of them in this same turn, so their
  // responses are gathered and written together at its end, in a few large
  // writes rather than one system call each. A lone request (web servers
  // never multiplex) is written at once.
  if (assembler_.requests() > (end ? 0u : 1u)) {
    flush_later();
    return;
  }
  flush();
}

std::optional<std::size_t> Connection::write_direct(std::uint16_t id, const Response& r, bool end,
                                                    std::size_t& total) {
  const std::size_t body = r.body ? r.body->size() : 0;
  const std::size_t stream = r.head.size() + body + r.tail.size();
  if (stream > kMaxContentLen || (stream == 0 && !end)) return std::nullopt;
  // STDOUT header, head, body, tail, then empty STDOUT and END_REQUEST.
  std::array<std::uint8_t, 3 * kHeaderLen + 8> framing;
  std::size_t framing_len = 0;
  const auto put = [&](const auto& bytes) {
    std::copy(bytes.begin(), bytes.end(), framing.begin() + framing_len);
    framing_len += bytes.size();
  };
  std::array<boost::asio::const_buffer, 5> bufs;
  std::size_t n = 0;
  if (stream != 0) {
    put(encode_stdout_header(id, static_cast<std::uint16_t>(stream)));
    bufs[n++] = boost::asio::buffer(framing.data(), kHeaderLen);
    if (!r.head.empty()) bufs[n++] = boost::asio::buffer(r.head);
    if (body != 0) bufs[n++] = boost::asio::buffer(*r.body);
    if (!r.tail.empty()) bufs[n++] = boost::asio::buffer(r.tail);
  }
  if (end) {
    const std::size_t at = framing_len;
    put(encode_stdout_header(id, 0));
    put(encode_end_request(id, 0, FCGI_REQUEST_COMPLETE));
    bufs[n++] = boost::asio::buffer(framing.data() + at, framing_len - at);
  }
  total = framing_len + stream;
  boost::system::error_code ec;
  const std::size_t written =
      socket_.write_some(std::span<const boost::asio::const_buffer>(bufs.data(), n), ec);
  if (would_block(ec)) return 0;
  if (ec) {
    close_later(ec);
    return std::nullopt;
  }
  return written;
}

void Connection::flush_later() {
  if (write_waiting_) {
    // The socket is full: the pending wait flushes everything queued.
    sync_queued();
    check_queue_limit();
    return;
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void Connection::check_queue_limit() {
  // Only what the socket would not take counts: a peer that reads keeps up.
  const auto& limits = server_->limits();
  const std::size_t max = limits.max_write_queue_bytes;
  if (max != 0 && out_.bytes() > max) {
    close_later(errc::write_queue_full);
    return;
  }
  const std::size_t total = limits.max_write_queue_bytes_total;
  auto& impl = *server_->impl_;
  while (total != 0 && impl.queued_bytes > total) {
    // Many slow readers together: the one that holds the most goes, which
    // frees the most and is the slowest. This scans the connections, but
    // only when the budget is passed, and each pass takes one off.
    Connection* most = nullptr;
    for (Connection* c : impl.connections) {
      if (!c->closed_ && !c->closing_ && (most == nullptr || c->queued_ > most->queued_)) most = c;
    }
    if (most == nullptr || most->queued_ == 0) return;
    most->close_later(errc::write_budget_exceeded);
  }
}

void Connection::sync_queued() {
  // A closing connection's queue is as good as freed.
  const std::size_t now = closed_ || closing_ ? 0 : out_.bytes();
  if (now == queued_) return;
  if (server_ != nullptr) {
    auto& impl = *server_->impl_;
    impl.queued_bytes = impl.queued_bytes - queued_ + now;
  }
  queued_ = now;
}

void Connection::flush() {
  if (closed_ || closing_) return;
  if (!write_waiting_) write_now();
  sync_queued();
  if (closed_ || closing_) return;
  if (write_waiting_) {
    check_queue_limit();
    return;
  }
  if (draining_ && idle()) close_later({});
}

void Connection::write_now() {
  // Scratch for the gather list, shared by the connections of this thread:
  // 512 entries are 8 KB, too much to zero on the stack for every response
  // and too much to keep per connection.
  static thread_local std::array<boost::asio::const_buffer, kMaxIovecs> local;
  while (!out_.empty()) {
    // Continue with the gather list of a partial write, if any: rebuilding
    // it after every partial write of a long queue would cost a walk of
    // kMaxIovecs pieces per write.
    const boost::asio::const_buffer* bufs;
    std::size_t n;
    if (unsent_pos_ < unsent_.size()) {
      bufs = unsent_.data() + unsent_pos_;
      n = unsent_.size() - unsent_pos_;
    } else {
      n = out_.buffers(local.data(), local.size());
      bufs = local.data();
    }
    n = std::min(n, kMaxIovecs);
    boost::system::error_code ec;
    const std::size_t written = gather_write(socket_.native_handle(), bufs, n, ec);
    if (would_block(ec)) {
      keep_unsent(bufs, n, 0, 0);
      wait_write();
      return;
    }
    if (ec) {
      close_later(ec);
      return;
    }
    std::size_t i = 0, left = written;
    while (i < n && left >= bufs[i].size()) {
      left -= bufs[i].size();
      ++i;
    }
    keep_unsent(bufs, n, i, left);
    if (out_.consume(written)) {
      // FCGI_KEEP_CONN was unset: the peer expects EOF after END_REQUEST.
      close_later({});
      return;
    }
  }
  std::vector<boost::asio::const_buffer>().swap(unsent_);
  unsent_pos_ = 0;
}

void Connection::keep_unsent(const boost::asio::const_buffer* bufs, std::size_t n, std::size_t sent,
                             std::size_t partial) {
  const bool own = unsent_pos_ < unsent_.size() && bufs == unsent_.data() + unsent_pos_;
  if (sent == n) {
    unsent_.clear();
    unsent_pos_ = 0;
    return;
  }
  if (own) {
    unsent_pos_ = static_cast<std::uint16_t>(unsent_pos_ + sent);
  } else {
    unsent_.assign(bufs + sent, bufs + n);
    unsent_pos_ = 0;
  }
  unsent_[unsent_pos_] += partial;
}

void Connection::wait_write() {
  write_waiting_ = true;
  socket_.async_wait(Socket::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->write_waiting_ = false;
    if (self->closed_ || self->closing_) return;
    if (ec) {
      self->close(ec);
      return;
    }
    self->flush();
  });
}

void Connection::close_later(std::error_code why) {
  if (closed_ || closing_) return;
  closing_ = true;
  sync_queued();
  boost::asio::post(socket_.get_executor(), [self = shared_from_this(), why] {
    self->closing_ = false;
    self->close(why);
  });
}

void Connection::drain() {
  draining_ = true;
  if (idle()) close_later({});
}

void Connection::log_close(std::error_code why) {
  // EOF, resets and orderly closes are the peer's business or ours; only a
  // close the server decided on, for a reason a person may need, is told.
  if (!why || why.category() != error_category() || server_ == nullptr) return;
  boost::system::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  std::string line = "closing connection";
  if (!ec) {
    const std::string from = detail::format_endpoint(peer);
    // A Unix socket peer has no name: "unix:" says nothing.
    if (from != "unix:") line += " from " + from;
  }
  line += ": " + why.message();
  // The assembler's count: a request it began while deciding to close is
  // aborted too.
  const std::size_t requests = assembler_.requests();
  if (requests != 0) line += " (" + std::to_string(requests) + " requests aborted)";
  server_->log(line);
}

void Connection::close(std::error_code why) {
  if (closed_) return;
  log_close(why);
  closed_ = true;
  record_deadline_.disarm();
  idle_deadline_.disarm();
  // Aborted requests drop their reference to this connection.
  auto self = shared_from_this();
  boost::system::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  sync_queued();
  std::vector<boost::asio::const_buffer>().swap(unsent_);
  unsent_pos_ = 0;
  std::vector<RequestPtr> unfinished;
  unfinished.reserve(assembler_.requests());
  assembler_.for_each_payload([&](std::uint16_t, Slot& slot) {
    if (slot.request) unfinished.push_back(std::move(slot.request));
  });
  assembler_.clear();
  if (server_ != nullptr) server_->connection_closed(this);
  // Last, so that listeners see a consistent connection (closed, no
  // requests) whatever they call.
  for (auto& request : unfinished) request->abort();
}

}  // namespace fcgi
