#include "fcgi/detail/connection.hpp"

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <span>
#include <utility>
#include <vector>

#include "fcgi/detail/server_impl.hpp"
#include "fcgi/error.hpp"

namespace fcgi {

namespace {

bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

// Gather entries per write_some: a response takes four or five, so this is
// about a hundred responses of a fan-out on a multiplexed connection per
// system call; at IOV_MAX (1024) the kernel's per-entry work would dominate.
constexpr std::size_t kMaxIovecs = 512;

// Reads per readiness event before yielding to other connections.
constexpr int kMaxReadsPerWakeup = 4;

}  // namespace

Connection::Connection(Server& server, Socket socket)
    : server_(&server), socket_(std::move(socket)) {}

void Connection::start() {
  boost::system::error_code ec;
  // Reads and writes are tried at once and only wait when they would block.
  socket_.non_blocking(true, ec);
  const int family = socket_.local_endpoint(ec).data()->sa_family;
  if (!ec && (family == AF_INET || family == AF_INET6)) {
    // Responses go out in one gather write; Nagle would only delay them.
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  }
  wait_read();
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
  while (used < size) {
    std::error_code ec;
    used += parser_.put(data + used, size - used, ec);
    if (ec) {
      close(ec);
      return;
    }
    if (parser_.has_fragment()) {
      on_fragment(parser_.fragment());
      if (closed_ || closing_) return;
    }
  }
}

void Connection::on_fragment(const RecordParser::Fragment& f) {
  const std::uint16_t id = f.header.request_id;
  if (id == FCGI_NULL_REQUEST_ID) {
    on_management(f);
    return;
  }
  switch (f.header.type) {
    case FCGI_BEGIN_REQUEST:
      on_begin(id, decode_begin_request(reinterpret_cast<const std::uint8_t*>(f.data.data())));
      return;
    case FCGI_ABORT_REQUEST:
      on_abort_request(id);
      return;
    default:
      break;
  }
  // Records of ids that are not active (never begun, rejected, or ended) are
  // ignored, as the spec says.
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  if (f.header.type == FCGI_PARAMS) {
    on_params(it->second, f);
  } else if (f.header.type == FCGI_STDIN) {
    on_stdin(it->second, f);
  }
  // FCGI_DATA belongs to the filter role, which is refused at BEGIN_REQUEST.
}

void Connection::on_management(const RecordParser::Fragment& f) {
  if (!f.last) return;
  if (f.header.type == FCGI_GET_VALUES) {
    const auto& limits = server_->limits();
    std::string out;
    if (!encode_get_values_result(
            f.data, {limits.max_connections, limits.max_requests_per_connection, true}, out)) {
      close(errc::bad_name_value_length);
      return;
    }
    out_.push_bytes(out.data(), out.size());
  } else {
    const auto rec = encode_unknown_type(f.header.type);
    out_.push_bytes(rec.data(), rec.size());
  }
  flush();
}

void Connection::send_end_request(std::uint16_t id, std::uint8_t protocol_status, bool keep_conn) {
  const auto rec = encode_end_request(id, 0, protocol_status);
  out_.push_bytes(rec.data(), rec.size(), !keep_conn);
  flush();
}

void Connection::on_begin(std::uint16_t id, const BeginRequest& begin) {
  if (requests_.count(id) != 0) {
    close(errc::duplicate_request);
    return;
  }
  if (begin.role != FCGI_RESPONDER) {
    send_end_request(id, FCGI_UNKNOWN_ROLE, begin.keep_conn());
    return;
  }
  const auto& limits = server_->limits();
  if (requests_.size() >= limits.max_requests_per_connection) {
    send_end_request(id, FCGI_OVERLOADED, begin.keep_conn());
    return;
  }
  Slot slot;
  slot.request = std::make_shared<Request>(shared_from_this(), id, begin.role, begin.keep_conn());
  slot.inbound = std::make_unique<detail::Inbound>(
      this, limits.max_params_bytes, std::chrono::steady_clock::now() + limits.read_timeout);
  server_->impl_->watch(*slot.inbound);
  requests_.emplace(id, std::move(slot));
}

void Connection::on_abort_request(std::uint16_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  RequestPtr request = std::move(it->second.request);
  requests_.erase(it);
  // The spec has the application answer an abort with END_REQUEST.
  send_end_request(id, FCGI_REQUEST_COMPLETE, request->keep_conn());
  request->abort();
}

void Connection::on_params(Slot& slot, const RecordParser::Fragment& f) {
  auto* in = slot.inbound.get();
  if (in == nullptr || in->params_done) {
    close(errc::stream_after_end);
    return;
  }
  std::error_code ec;
  if (f.header.content_length == 0) {
    in->params.finish(ec);
    in->params_done = true;
  } else {
    in->params.put(f.data, slot.request->mutable_params(), ec);
  }
  const std::uint16_t id = f.header.request_id;
  if (ec == errc::params_too_large || ec == errc::bad_name_value_length) {
    reject(id, "431 Request Header Fields Too Large");
    return;
  }
  if (ec) {
    close(ec);
    return;
  }
  maybe_dispatch(slot);
}

void Connection::on_stdin(Slot& slot, const RecordParser::Fragment& f) {
  auto* in = slot.inbound.get();
  if (in == nullptr || in->stdin_done) {
    close(errc::stream_after_end);
    return;
  }
  const std::uint16_t id = f.header.request_id;
  if (f.header.content_length == 0) {
    in->stdin_done = true;
    maybe_dispatch(slot);
    return;
  }
  std::string& body = slot.request->mutable_body();
  if (body.size() + f.data.size() > server_->limits().max_stdin_bytes) {
    reject(id, "413 Content Too Large");
    return;
  }
  body.append(f.data);
}

void Connection::maybe_dispatch(Slot& slot) {
  if (!slot.inbound->params_done || !slot.inbound->stdin_done) return;
  // Dispatched requests have no deadline: they may be parked for long.
  slot.inbound.reset();
  // The handler may answer at once, which erases the slot.
  RequestPtr request = slot.request;
  server_->handler().on_request(request);
}

void Connection::reject(std::uint16_t id, const char* status) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  RequestPtr request = std::move(it->second.request);
  requests_.erase(it);
  Response r;
  r.head =
      std::string("Status: ") + status + "\r\nContent-Type: text/plain\r\n\r\n" + status + "\n";
  // The application never saw it; its later records are ignored as those of
  // an inactive id.
  request->respond(std::move(r));
}

void Connection::send(std::uint16_t id, Response&& r, bool end, bool keep_conn) {
  if (end) requests_.erase(id);
  if (closed_ || closing_) return;
  out_.push_response(id, std::move(r), end, end && !keep_conn);
  // Other requests in flight on this connection (a multiplexing client):
  // a fan-out usually answers many of them in this same turn, so their
  // responses are gathered and written together at its end, in a few large
  // writes rather than one system call each. A lone request (web servers
  // never multiplex) is written at once.
  if (requests_.size() > (end ? 0u : 1u)) {
    flush_later();
    return;
  }
  flush();
}

void Connection::flush_later() {
  if (write_waiting_) {
    // The socket is full: the pending wait flushes everything queued.
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
  const std::size_t max = server_->limits().max_write_queue_bytes;
  if (max != 0 && out_.bytes() > max) close_later(errc::write_queue_full);
}

void Connection::flush() {
  if (closed_ || closing_) return;
  if (write_waiting_) {
    check_queue_limit();
    return;
  }
  std::array<boost::asio::const_buffer, kMaxIovecs> local;
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
    boost::system::error_code ec;
    const std::size_t written =
        socket_.write_some(std::span<const boost::asio::const_buffer>(bufs, n), ec);
    if (would_block(ec)) {
      keep_unsent(bufs, n, 0, 0);
      wait_write();
      check_queue_limit();
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
  if (draining_ && idle()) close_later({});
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
    unsent_pos_ += sent;
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
  boost::asio::post(socket_.get_executor(), [self = shared_from_this(), why] {
    self->closing_ = false;
    self->close(why);
  });
}

void Connection::drain() {
  draining_ = true;
  if (idle()) close_later({});
}

void Connection::close(std::error_code /*why*/) {
  if (closed_) return;
  closed_ = true;
  // Aborted requests drop their reference to this connection.
  auto self = shared_from_this();
  boost::system::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  std::vector<boost::asio::const_buffer>().swap(unsent_);
  unsent_pos_ = 0;
  std::vector<RequestPtr> unfinished;
  unfinished.reserve(requests_.size());
  for (auto& [id, slot] : requests_) unfinished.push_back(std::move(slot.request));
  requests_.clear();
  if (server_ != nullptr) server_->connection_closed(this);
  // Last, so that listeners see a consistent connection (closed, no
  // requests) whatever they call.
  for (auto& request : unfinished) request->abort();
}

}  // namespace fcgi
